// A core::ServiceHooks that records every hook run (kind, service, context)
// and finishes one when the test says so, with the outcome the test gives.
// Like the real implementation, `done` is never called inline in run(), and
// never after the run's handle was destroyed (cancelled).
#pragma once

#include "core/service_hooks.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace luvsup::test {

class FakeServiceHooks final : public core::ServiceHooks {
public:
  struct Call {
    core::HookKind kind;
    std::string service;
    // Copies of what the context pointed to while run() ran.
    std::optional<core::ExitRecord> exit;
    int restarts = 0;
    std::optional<core::HealthStatus> health;
    std::function<void(core::HookOutcome)> done;
    bool cancelled = false;  // its handle was destroyed before it finished
    bool finished = false;
  };

  explicit FakeServiceHooks(std::set<core::HookKind> kinds) : m_kinds(std::move(kinds)) {}

  bool has(core::HookKind kind) const override { return m_kinds.count(kind) != 0; }

  std::unique_ptr<core::RunningHook> run(core::HookKind kind, const std::string& name,
                                         const core::HookContext& context,
                                         std::function<void(core::HookOutcome)> done) override {
    auto call = std::make_shared<Call>();
    call->kind = kind;
    call->service = name;
    if (context.exit != nullptr) {
      call->exit = *context.exit;
    }
    call->restarts = context.restarts;
    if (context.health != nullptr) {
      call->health = *context.health;
    }
    call->done = std::move(done);
    calls.push_back(call);
    return std::make_unique<Running>(call);
  }

  // Runs of `kind` (of every kind when nullopt), in start order.
  std::vector<std::shared_ptr<Call>> of(std::optional<core::HookKind> kind) const {
    std::vector<std::shared_ptr<Call>> out;
    for (const auto& c : calls) {
      if (!kind || c->kind == *kind) {
        out.push_back(c);
      }
    }
    return out;
  }
  int count(core::HookKind kind) const { return static_cast<int>(of(kind).size()); }
  // The runs of `kind` neither finished nor cancelled.
  std::vector<std::shared_ptr<Call>> open(core::HookKind kind) const {
    std::vector<std::shared_ptr<Call>> out;
    for (const auto& c : of(kind)) {
      if (!c->cancelled && !c->finished) {
        out.push_back(c);
      }
    }
    return out;
  }

  // Finishes the oldest open run of `kind` with `outcome`.
  void finish(core::HookKind kind, core::HookOutcome outcome = {}) {
    auto runs = open(kind);
    if (runs.empty()) {
      throw std::logic_error("no open hook run to finish");
    }
    runs.front()->finished = true;
    runs.front()->done(std::move(outcome));
  }

  std::vector<std::shared_ptr<Call>> calls;

private:
  struct Running final : core::RunningHook {
    explicit Running(std::shared_ptr<Call> c) : call(std::move(c)) {}
    ~Running() override {
      if (!call->finished) {
        call->cancelled = true;
      }
    }
    std::shared_ptr<Call> call;
  };
  std::set<core::HookKind> m_kinds;
};

// Outcomes for FakeServiceHooks::finish.
inline core::HookOutcome refused(std::string reason) {
  core::HookOutcome o;
  o.allowed = false;
  o.reason = std::move(reason);
  return o;
}
inline core::HookOutcome hook_failed(std::string error) {
  core::HookOutcome o;
  o.status = core::HookOutcome::Status::failed;
  o.error = std::move(error);
  return o;
}
inline core::HookOutcome hook_timed_out() {
  core::HookOutcome o;
  o.status = core::HookOutcome::Status::timed_out;
  o.error = "timed out after 5s";
  return o;
}
inline core::HookOutcome unhealthy_action(core::UnhealthyAction action) {
  core::HookOutcome o;
  o.action = action;
  return o;
}

}  // namespace luvsup::test
