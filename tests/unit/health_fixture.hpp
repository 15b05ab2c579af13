// A stack loaded from Lua text, supervised on the fake platform: the real
// DSL, the real Lua health judge and the real state machine on a fake clock.
#pragma once

#include "core/supervisor.hpp"
#include "support/fake_platform.hpp"
#include "test_lua_support.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <string>

namespace luvsup::test {

inline health::ProbeResult passed(double latency = 0.002) {
  health::ProbeResult r;
  r.ok = true;
  r.latency = latency;
  return r;
}

inline health::ProbeResult failed(std::string error = "connection refused") {
  health::ProbeResult r;
  r.error = std::move(error);
  return r;
}

struct HealthFixture {
  HealthFixture() {
    spdlog::set_level(spdlog::level::off);
    environment.platform = &platform;
  }

  // Loads `stack` (prefixed with `local health = require "luvsup.health"`),
  // adds its services and starts them.
  void load(const std::string& stack) {
    auto result =
        lua::load_stack(dir.write("stack.lua", "local health = require 'luvsup.health'\n"
                                               "local backoff = require 'luvsup.backoff'\n" +
                                                   stack),
                        &environment);
    if (auto* err = std::get_if<lua::LoadError>(&result)) {
      FAIL("unexpected load error: " << err->message);
    }
    def = std::move(std::get<lua::StackDefinition>(result));
    for (const auto& spec : def.services) {
      supervisor.add(std::make_shared<const core::ServiceSpec>(spec));
    }
    supervisor.start_all();
  }

  core::Service& svc(const std::string& name) { return *supervisor.find(name); }

  void exit(const std::string& name, int code, int sig = 0) {
    platform.alive[name] = 0;
    supervisor.on_process_exit(svc(name).pid(), core::ExitStatus{code, sig, false});
  }

  // Advances the clock until `name` has a probe open (at most `limit` s);
  // returns whether it has.
  bool await_probe(const std::string& name, double limit = 60) {
    for (double t = 0; t < limit; t += 0.1) {
      for (const auto& p : platform.open_probes()) {
        if (p->service == name) {
          return true;
        }
      }
      platform.advance(0.1);
    }
    return false;
  }

  // Waits for the next round of `name` and completes every probe of it.
  void round(const std::string& name, const health::ProbeResult& result) {
    REQUIRE(await_probe(name));
    platform.finish_probes(name, result);
  }

  int sigterms(const std::string& name) const {
    int n = 0;
    for (const auto& s : platform.signals) {
      n += s.service == name && s.sig == SIGTERM ? 1 : 0;
    }
    return n;
  }

  int spawns(const std::string& name) const {
    return static_cast<int>(std::count(platform.spawned.begin(), platform.spawned.end(), name));
  }

  TempDir dir;
  FakePlatform platform;             // first: the scheduler's timers are its timers
  runbook::Environment environment;  // before def: its scheduler runs Lua probes on the fake clock
  lua::StackDefinition def; // before the supervisor: its Lua state outlives the services
  core::Supervisor supervisor{platform};
};

} // namespace luvsup::test
