// A Platform with a fake clock, fake timers and fake processes, so the real
// service state machine runs deterministically in unit tests.
#pragma once

#include "core/platform.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace luvsup::test {

class FakePlatform final : public core::Platform {
public:
  struct Signal {
    std::string service;
    int sig;
  };

  double now() const override { return m_now; }
  double wall_now() const override { return 1'700'000'000.0 + m_now; }

  std::unique_ptr<core::Timer> make_timer() override {
    return std::make_unique<FakeTimer>(*this);
  }

  core::SpawnOutcome spawn(const core::ServiceSpec& spec) override {
    spawned.push_back(spec.name);
    if (failing_spawns.count(spec.name) != 0) {
      return {-1, "exec /nonexistent: No such file or directory (ENOENT)"};
    }
    const pid_t pid = m_next_pid++;
    alive[spec.name] = 1;
    pids[spec.name] = pid;
    return {pid, {}};
  }

  void signal_service(const core::ServiceSpec& spec, pid_t, pid_t, int sig) override {
    signals.push_back({spec.name, sig});
  }

  void send_signal(const core::ServiceSpec& spec, pid_t, pid_t, int sig) override {
    sent.push_back({spec.name, sig});
  }

  std::optional<std::string> service_of_process(pid_t pid) const override {
    auto it = owners.find(pid);
    return it != owners.end() ? std::optional<std::string>(it->second) : std::nullopt;
  }

  bool service_alive(const core::ServiceSpec& spec, pid_t, pid_t) override {
    return alive[spec.name] > 0;
  }

  void service_gone(const core::ServiceSpec& spec) override { gone.push_back(spec.name); }
  void service_removed(const core::ServiceSpec& spec) override { removed.push_back(spec.name); }

  // A probe the test completes with finish_probe(); destroying its handle
  // (a cancel) marks it cancelled.
  struct Probe {
    std::string service;
    core::ProbeSpec spec;
    health::ProbeDone done;
    bool cancelled = false;
    bool finished = false;
  };

  std::unique_ptr<health::PendingProbe> start_probe(const core::ServiceSpec& spec, const core::ProbeSpec& probe,
                                                    health::ProbeDone done) override {
    probes.push_back(std::make_shared<Probe>(Probe{spec.name, probe, std::move(done)}));
    return std::make_unique<FakePending>(probes.back());
  }

  // Probes started and neither finished nor cancelled.
  std::vector<std::shared_ptr<Probe>> open_probes() const {
    std::vector<std::shared_ptr<Probe>> out;
    for (const auto& p : probes) {
      if (!p->cancelled && !p->finished) {
        out.push_back(p);
      }
    }
    return out;
  }

  // Completes every open probe of `service` with `result` (of the given kind
  // only, when `kind` is set). Returns how many were completed.
  int finish_probes(const std::string& service, const health::ProbeResult& result,
                    std::optional<core::ProbeSpec::Kind> kind = std::nullopt) {
    int n = 0;
    for (const auto& p : open_probes()) {
      if (p->service == service && (!kind || p->spec.kind == *kind)) {
        p->finished = true;
        ++n;
        p->done(result);
      }
    }
    return n;
  }

  // Moves the clock forward, firing due timers in deadline order.
  void advance(double seconds) {
    const double until = m_now + seconds;
    for (;;) {
      FakeTimer* next = nullptr;
      for (FakeTimer* timer : m_timers) {
        if (timer->armed && timer->deadline <= until && (next == nullptr || timer->deadline < next->deadline)) {
          next = timer;
        }
      }
      if (next == nullptr) {
        break;
      }
      m_now = std::max(m_now, next->deadline);
      next->armed = false;
      auto fn = next->fn;
      fn();
    }
    m_now = until;
  }

  std::vector<std::string> spawned;
  std::vector<Signal> signals;
  std::vector<Signal> sent;                  // send_signal: signals hooks sent
  std::map<pid_t, std::string> owners;       // service_of_process: pid -> service (tag or cgroup)
  std::vector<std::string> gone;
  std::vector<std::string> removed;  // services service_removed was called for
  std::map<std::string, int> alive;  // service -> number of live processes
  std::map<std::string, pid_t> pids;
  std::set<std::string> failing_spawns;
  std::vector<std::shared_ptr<Probe>> probes;

private:
  struct FakePending final : health::PendingProbe {
    explicit FakePending(std::shared_ptr<Probe> p) : probe(std::move(p)) {}
    ~FakePending() override {
      if (!probe->finished) {
        probe->cancelled = true;
      }
    }
    std::shared_ptr<Probe> probe;
  };

  struct FakeTimer final : core::Timer {
    explicit FakeTimer(FakePlatform& p) : platform(p) { platform.m_timers.insert(this); }
    ~FakeTimer() override { platform.m_timers.erase(this); }
    void start(double delay, std::function<void()> f) override {
      deadline = platform.m_now + delay;
      fn = std::move(f);
      armed = true;
    }
    void stop() override { armed = false; }
    FakePlatform& platform;
    double deadline = 0;
    bool armed = false;
    std::function<void()> fn;
  };

  double m_now = 100.0;
  pid_t m_next_pid = 1000;
  std::set<FakeTimer*> m_timers;
};

}  // namespace luvsup::test
