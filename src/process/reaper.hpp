// Reaping every child luvsup has: the services' main processes and the
// orphans it adopts as a child subreaper.
//
// With PR_SET_CHILD_SUBREAPER, a service's grandchildren whose parent exits
// are re-parented to luvsup instead of init, so they stay findable and are
// reaped here instead of piling up as zombies. libuv reaps only the pids it
// spawned, with waitpid(pid); if anything in the process uses uv_spawn, this
// class must not steal those exits, so it never calls waitpid(-1): it lists
// its children from /proc and waits for each one libuv does not own.
#pragma once

#include "core/exit_record.hpp"
#include "uv/signal.hpp"

#include <sys/types.h>

#include <functional>

namespace luvsup::process {

class Reaper {
public:
  // Makes luvsup a child subreaper and reaps on every SIGCHLD. `on_exit` is
  // called from the loop for each reaped pid, main process or orphan alike;
  // telling them apart is the caller's business. Exceptions from it are
  // caught and logged.
  Reaper(uv_loop_t* loop, std::function<void(pid_t, core::ExitStatus)> on_exit);
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // Waits (WNOHANG) for each of luvsup's children that libuv does not own and
  // reports those that have exited. Safe to call at any time, e.g. at start
  // for children that exited before the Reaper existed.
  void reap_now();

  // Whether prctl(PR_SET_CHILD_SUBREAPER) succeeded.
  [[nodiscard]] bool subreaper() const { return m_subreaper; }

private:
  uv_loop_t* m_loop;
  std::function<void(pid_t, core::ExitStatus)> m_on_exit;
  uv::Signal m_sigchld;
  bool m_subreaper = false;
};

// Decodes a waitpid status.
core::ExitStatus exit_status_from_wait(int status);

}  // namespace luvsup::process
