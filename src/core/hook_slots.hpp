// The hooks a service has in flight (see core/service_hooks.hpp).
//
// HookSlots owns every RunningHook of one service: destroying it, or
// cancel()/cancel_all(), cancels them deterministically (their `done` is
// never called). Each run keeps the spec it started under alive, and with it
// the Lua state its hook belongs to. A run remembers the spec generation it
// started under; a reload that changes the service's hooks leaves the runs in
// flight to finish in the old state, but their outcome is then reported as
// stale (nullopt) so that a retired definition never decides anything.
//
// Finished runs are destroyed from a zero timer of their own, never inside
// their `done` callback.
#pragma once

#include "core/lazy_timer.hpp"
#include "core/platform.hpp"
#include "core/service_hooks.hpp"
#include "core/service_spec.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace luvsup::core {

class HookSlots {
public:
  // Called when a run finishes, from the hook's loop callback: its outcome,
  // or nullopt when it ran for a definition a reload has replaced since.
  using Finished = std::function<void(HookKind, std::optional<HookOutcome>)>;

  HookSlots(Platform& platform, Finished finished);
  ~HookSlots();
  HookSlots(const HookSlots&) = delete;
  HookSlots& operator=(const HookSlots&) = delete;

  // Whether `spec` defines hook `kind`.
  static bool defined(const ServiceSpec& spec, HookKind kind);

  // Starts hook `kind` of `spec` under spec generation `generation`; returns
  // false (and starts nothing) when the spec does not define it or the
  // service is retired. `context` is read during the call only.
  bool start(const std::shared_ptr<const ServiceSpec>& spec, uint64_t generation, HookKind kind,
             const HookContext& context);
  bool running(HookKind kind) const;
  // Cancels every run of `kind`, or of every kind.
  void cancel(HookKind kind);
  void cancel_all();
  // A reload swapped in the definition of generation `generation`. With the
  // same hooks, the runs in flight are adopted by it (their outcome counts);
  // with changed hooks, they finish in the old state and report stale.
  void rebind(uint64_t generation, bool hooks_changed);
  // The service left the stack: every run is cancelled and none starts again
  // (until a rebind: a later reload brought it back).
  void retire();

private:
  struct Run {
    uint64_t id;
    HookKind kind;
    uint64_t generation;
    std::shared_ptr<const ServiceSpec> spec;  // declared first: outlives the hook
    std::unique_ptr<RunningHook> hook;
  };
  void finish(uint64_t id, HookOutcome outcome);

  Platform& m_platform;
  Finished m_finished;
  std::vector<Run> m_runs;
  std::vector<Run> m_done;  // finished runs, destroyed by m_reap_timer
  LazyTimer m_reap_timer;
  uint64_t m_next_id = 1;
  uint64_t m_generation = 0;  // the service's current spec generation
  bool m_retired = false;
};

}  // namespace luvsup::core
