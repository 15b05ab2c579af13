#include "process/reaper.hpp"

#include "process/process_table.hpp"

#include <spdlog/spdlog.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <vector>

namespace luvsup::process {

namespace {

// Pids of the processes libuv spawned on `loop` and still owns.
std::vector<pid_t> libuv_pids(uv_loop_t* loop) {
  std::vector<pid_t> pids;
  uv_walk(
      loop,
      [](uv_handle_t* handle, void* arg) {
        if (handle->type == UV_PROCESS) {
          static_cast<std::vector<pid_t>*>(arg)->push_back(
              reinterpret_cast<uv_process_t*>(handle)->pid);
        }
      },
      &pids);
  return pids;
}

}  // namespace

core::ExitStatus exit_status_from_wait(int status) {
  core::ExitStatus out;
  if (WIFEXITED(status)) {
    out.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
    out.core_dumped = WCOREDUMP(status);
  }
  return out;
}

Reaper::Reaper(uv_loop_t* loop, std::function<void(pid_t, core::ExitStatus)> on_exit)
    : m_loop(loop), m_on_exit(std::move(on_exit)), m_sigchld(loop, SIGCHLD, [this] { reap_now(); }) {
  m_subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
  if (!m_subreaper) {
    spdlog::warn("cannot become a child subreaper: {}; orphaned grandchildren go to init",
                 std::strerror(errno));
  }
}

void Reaper::reap_now() {
  auto owned = libuv_pids(m_loop);
  for (pid_t pid : own_children()) {
    if (std::find(owned.begin(), owned.end(), pid) != owned.end()) {
      continue;
    }
    int status = 0;
    pid_t got;
    do {
      got = waitpid(pid, &status, WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got != pid) {
      continue;  // still running, or someone else reaped it
    }
    try {
      m_on_exit(pid, exit_status_from_wait(status));
    } catch (const std::exception& e) {
      spdlog::error("exit handler for pid {} failed: {}", pid, e.what());
    } catch (...) {
      spdlog::error("exit handler for pid {} failed", pid);
    }
  }
}

}  // namespace luvsup::process
