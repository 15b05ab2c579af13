#include "core/hook_slots.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace luvsup::core {

HookSlots::HookSlots(Platform& platform, Finished finished)
    : m_platform(platform), m_finished(std::move(finished)),
      m_reap_timer(platform) {}

// Runs go first (in reverse start order), while the timer and the callback
// they never call any more still exist.
HookSlots::~HookSlots() {
  while (!m_runs.empty()) {
    m_runs.pop_back();
  }
  m_done.clear();
}

bool HookSlots::defined(const ServiceSpec& spec, HookKind kind) {
  return spec.hooks != nullptr && spec.hooks->has(kind);
}

bool HookSlots::start(const std::shared_ptr<const ServiceSpec>& spec, uint64_t generation,
                      HookKind kind, const HookContext& context) {
  if (m_retired || !defined(*spec, kind)) {
    return false;
  }
  m_generation = generation;
  const uint64_t id = m_next_id++;
  spdlog::debug("{}: {} starts", spec->name, to_string(kind));
  auto hook = spec->hooks->run(kind, spec->name, context,
                               [this, id](HookOutcome outcome) { finish(id, std::move(outcome)); });
  m_runs.push_back(Run{id, kind, generation, spec, std::move(hook)});
  return true;
}

bool HookSlots::running(HookKind kind) const {
  return std::any_of(m_runs.begin(), m_runs.end(), [kind](const Run& r) { return r.kind == kind; });
}

void HookSlots::cancel(HookKind kind) {
  // Moved out first: a hook's destructor must not see a half-erased vector.
  std::vector<Run> cancelled;
  for (auto it = m_runs.begin(); it != m_runs.end();) {
    if (it->kind == kind) {
      spdlog::debug("{}: {} cancelled", it->spec->name, to_string(kind));
      cancelled.push_back(std::move(*it));
      it = m_runs.erase(it);
    } else {
      ++it;
    }
  }
}

void HookSlots::cancel_all() {
  std::vector<Run> cancelled = std::exchange(m_runs, {});
  for (const Run& run : cancelled) {
    spdlog::debug("{}: {} cancelled", run.spec->name, to_string(run.kind));
  }
}

void HookSlots::rebind(uint64_t generation, bool hooks_changed) {
  m_generation = generation;
  m_retired = false;  // a reload that brings a removed service back
  if (hooks_changed) {
    return;  // their generation is now an old one: they report stale
  }
  for (Run& run : m_runs) {
    run.generation = generation;
  }
}

void HookSlots::retire() {
  m_retired = true;
  cancel_all();
}

void HookSlots::finish(uint64_t id, HookOutcome outcome) {
  auto it = std::find_if(m_runs.begin(), m_runs.end(), [id](const Run& r) { return r.id == id; });
  if (it == m_runs.end()) {
    return;  // a run cancelled meanwhile: its implementation should not have called
  }
  const HookKind kind = it->kind;
  const uint64_t generation = it->generation;
  m_done.push_back(std::move(*it));
  m_runs.erase(it);
  m_reap_timer.start(0, [this] { m_done.clear(); });
  m_finished(kind, generation == m_generation ? std::optional<HookOutcome>(std::move(outcome))
                                              : std::nullopt);
}

}  // namespace luvsup::core
