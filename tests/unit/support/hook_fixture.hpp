// The real Supervisor on the fake platform, with services whose hooks are a
// FakeServiceHooks each, and restart policies with known delays.
#pragma once

#include "core/supervisor.hpp"
#include "fake_platform.hpp"
#include "fake_service_hooks.hpp"
#include "service_specs.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace luvsup::test {

// Restarts after the given delays in turn (the last one repeats; nullopt
// gives up), crash-looping from the third decision on; records every exit.
class DelayPolicy final : public core::RestartPolicy {
public:
  explicit DelayPolicy(std::vector<std::optional<double>> delays) : m_delays(std::move(delays)) {}
  core::RestartDecision decide(const core::ServiceView&, const core::ExitRecord& exit) override {
    seen.push_back(exit);
    core::RestartDecision d;
    d.delay = m_calls < m_delays.size() ? m_delays[m_calls] : m_delays.back();
    if (!d.delay) {
      d.reason = "max_restarts reached";
    }
    d.crash_looping = m_calls >= 2;
    ++m_calls;
    return d;
  }
  std::vector<core::ExitRecord> seen;

private:
  std::vector<std::optional<double>> m_delays;
  size_t m_calls = 0;
};

struct HookFixture {
  HookFixture() { spdlog::set_level(spdlog::level::off); }

  // A spec named `name` with the hooks `kinds` (its FakeServiceHooks is
  // hooks(name)); add it with supervisor.add.
  std::shared_ptr<core::ServiceSpec> spec(const std::string& name, std::set<core::HookKind> kinds,
                                          std::vector<std::string> deps = {},
                                          std::shared_ptr<core::RestartPolicy> policy = nullptr) {
    auto s = make_service_spec(name, std::move(deps), std::move(policy));
    auto fake = std::make_shared<FakeServiceHooks>(std::move(kinds));
    m_hooks[name] = fake;
    s->hooks = fake;
    s->hook_fingerprints[0] = 1;
    return s;
  }
  FakeServiceHooks& hooks(const std::string& name) { return *m_hooks.at(name); }

  core::Service& svc(const std::string& name) { return *supervisor.find(name); }
  void exit(const std::string& name, int code, int sig = 0) {
    platform.alive[name] = 0;
    supervisor.on_process_exit(svc(name).pid(), core::ExitStatus{code, sig, false});
  }
  // Lets the zero timers run (hook reaping, watch delivery).
  void settle() { platform.advance(0); }
  int spawns(const std::string& name) const {
    return static_cast<int>(std::count(platform.spawned.begin(), platform.spawned.end(), name));
  }
  int signals(const std::string& name, int sig) const {
    int n = 0;
    for (const auto& s : platform.signals) {
      n += s.service == name && s.sig == sig ? 1 : 0;
    }
    return n;
  }
  // Plans and applies a reload to `next`; returns the log line.
  std::string reload(const std::vector<std::shared_ptr<core::ServiceSpec>>& next) {
    std::vector<std::shared_ptr<const core::ServiceSpec>> specs(next.begin(), next.end());
    std::vector<const core::ServiceSpec*> view;
    for (const auto& s : next) {
      view.push_back(s.get());
    }
    const auto plan = core::plan_reload(supervisor.specs(), view);
    return supervisor.apply_reload(plan, std::move(specs));
  }

  std::map<std::string, std::shared_ptr<FakeServiceHooks>> m_hooks;  // outlive the services
  FakePlatform platform;
  core::Supervisor supervisor{platform};
};

}  // namespace luvsup::test
