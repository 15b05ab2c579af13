// The C++ view of one validated service definition.
//
// The Lua DSL (lua/luvsup/dsl.lua) validates and normalises a service table;
// the stack loader copies it into this struct. Everything here is plain data
// except the restart policy, which calls back into the Lua state that defined
// it. Runtime state (pids, restart counts) never lives here: a reload swaps
// specs while the Service objects keep their state.
#pragma once

#include "core/heap_optional.hpp"
#include "core/health_spec.hpp"
#include "core/restart_policy.hpp"
#include "core/service_hooks.hpp"

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace luvsup::core {

struct ResourceLimit {
  int resource = 0;  // RLIMIT_*
  rlim_t soft = RLIM_INFINITY;
  rlim_t hard = RLIM_INFINITY;
  bool operator==(const ResourceLimit&) const = default;
};

struct Dependency {
  std::string name;
  std::string condition = "started";  // "started", "healthy" (ready) or "completed" (a oneshot exited 0)
  bool restart = false;  // a reload that restarts the dependency restarts this service too
  bool operator==(const Dependency&) const = default;
};

struct StopSpec {
  int signal = 15;        // SIGTERM
  double timeout = 10.0;  // seconds before SIGKILL
  bool operator==(const StopSpec&) const = default;
};

struct LogSpec {
  std::string file;                   // absolute path; stdout and stderr merged here by default
  bool separate_stderr = false;       // stderr through its own pipe, tagged "err"
  std::string stderr_file;            // when non-empty, stderr goes to this file instead
  uint64_t max_size = 10ull << 20;    // rotate above this many bytes; 0 = never rotate
  unsigned keep = 5;                  // rotated files kept (file.1 .. file.keep)
  size_t max_line = 64 * 1024;        // longer lines are split with a continuation mark
  double stall_timeout = 30.0;        // seconds a stuck write may hold output before it is dropped
  bool operator==(const LogSpec&) const = default;
};

// How a service tells luvsup it is ready, besides a passing health probe.
// The first readiness signal of any kind counts.
struct ReadySpec {
  std::string log_pattern;  // a Lua pattern matched against each output line
  bool notify = false;      // the sd_notify protocol: NOTIFY_SOCKET, READY=1
  int fd = -1;              // the s6 style: the child writes a newline to this descriptor
  bool operator==(const ReadySpec&) const = default;
};

struct ServiceSpec {
  std::string name;
  std::string source_file;  // where `service "name"` was called
  int source_line = 0;

  std::vector<std::string> argv;  // argv[0] is looked up in PATH unless it contains '/'
  std::string cwd;                // absolute
  std::vector<std::pair<std::string, std::string>> env;  // env_file then env, added to the inherited env
  std::string user;               // empty = luvsup's own
  std::string group;              // empty = the user's primary group
  std::optional<mode_t> umask;
  std::vector<ResourceLimit> limits;
  std::string stdin_path = "/dev/null";
  std::vector<int> success_codes = {0};
  std::vector<Dependency> depends_on;
  StopSpec stop;
  LogSpec log;
  bool autostart = true;
  bool oneshot = false;
  ReadySpec ready;
  double watchdog = 0;       // seconds between WATCHDOG=1 messages; 0 = none (needs ready.notify)
  HeapOptional<HealthSpec> health;             // the health check, when it has one
  // Its hooks (before_start, on_exit, on_unhealthy, ...), null when it has
  // none: then unhealthy restarts it.
  std::shared_ptr<ServiceHooks> hooks;
  double start_timeout = 60.0;  // seconds it waits for its dependencies before it is blocked
  // A scheduled oneshot's schedule ("every 1h", "cron '0 3 * * *'"; "" = none)
  // and the files it watches: app::StackTasks acts on them, the supervisor
  // only reports their changes.
  std::string schedule;
  std::vector<std::string> watch;

  std::shared_ptr<RestartPolicy> restart;  // never null once loaded
  // A hash of the restart policy's Lua value (its data, code and upvalues,
  // lua/luvsup/fingerprint.lua): equal across two loads when the policy is the
  // same, so a reload can tell a changed policy from a reloaded one.
  uint64_t restart_fingerprint = 0;
  uint64_t health_fingerprint = 0;        // the same for the `health` value
  uint64_t on_unhealthy_fingerprint = 0;  // and for the on_unhealthy hook
  std::array<uint64_t, k_hook_kinds> hook_fingerprints{};  // and for each hook, by HookKind
  double hook_timeout = 5.0;  // seconds before_start, on_exit, after_stop and on_unhealthy may take
};

}  // namespace luvsup::core
