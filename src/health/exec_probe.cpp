#include "health/exec_probe.hpp"

#include "os/unique_fd.hpp"
#include "process/launcher.hpp"
#include "process/process_table.hpp"
#include "uv/handle.hpp"
#include "uv/timer.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace luvsup::health {

namespace {

// The first line of the output, trimmed to a length fit for a log line.
std::string first_line(const std::string& output) {
  std::string line = output.substr(0, output.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

} // namespace

class ExecProbe final : public PendingProbe {
public:
  ExecProbe(ExecProbes& owner, double timeout, ProbeDone done)
      : m_owner(owner), m_timeout(timeout), m_done(std::move(done)), m_timer(owner.m_loop) {}

  ~ExecProbe() override {
    if (m_pid > 0) {
      // Cancelled while running: the group goes, the Reaper reaps it.
      process::signal_group(m_pid, SIGKILL);
      m_owner.m_running.erase(m_pid);
      m_owner.m_abandoned.insert(m_pid);
    }
  }

  void start(const process::LaunchSpec& spec) {
    m_started = uv_hrtime();
    auto launched = process::launch(spec, false);
    if (auto* error = std::get_if<process::LaunchError>(&launched)) {
      m_timer.start(0, [this, message = error->message()] { finish_error(message); });
      return;
    }
    const auto& child = std::get<process::Launched>(launched);
    m_pid = child.pid;
    m_out.reset(child.out_fd);
    m_owner.m_running[m_pid] = this;
    if (uv_poll_init(m_owner.m_loop, m_poll.get(), m_out.get()) == 0) {
      m_poll.mark_initialised();
      m_poll->data = this;
      uv_poll_start(m_poll.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
        if (auto* self = static_cast<ExecProbe*>(handle->data)) {
          self->drain();
        }
      });
    }
    m_timer.start(m_timeout, [this] { time_out(); });
  }

  void exited(const core::ExitStatus& status) {
    // What the command left in its group goes with it, so probes that start
    // background work do not pile up round after round.
    process::signal_group(m_pid, SIGKILL);
    m_pid = -1;
    drain();
    core::ExitRecord record;
    record.status = status;
    ProbeResult result = base_result();
    result.ok = status.signal == 0 && status.code == 0;
    result.status = status.signal == 0 ? status.code : -1;
    if (!result.ok) {
      const std::string line = first_line(m_output);
      result.error = core::describe(record) + (line.empty() ? "" : ": " + line);
    }
    finish(std::move(result));
  }

private:
  ProbeResult base_result() const {
    ProbeResult result;
    result.latency = static_cast<double>(uv_hrtime() - m_started) / 1e9;
    result.output = m_output;
    return result;
  }

  void drain() {
    char buf[1024];
    for (;;) {
      const ssize_t n = ::read(m_out.get(), buf, sizeof buf);
      if (n > 0) {
        const size_t room =
            ExecProbes::k_max_output - std::min(m_output.size(), ExecProbes::k_max_output);
        m_output.append(buf, std::min(static_cast<size_t>(n), room));
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        m_poll.reset(); // end of output (or a broken pipe): stop watching
      }
      return;
    }
  }

  void time_out() {
    process::signal_group(m_pid, SIGKILL);
    m_owner.m_running.erase(m_pid);
    m_owner.m_abandoned.insert(m_pid);
    m_pid = -1;
    drain();
    ProbeResult result = base_result();
    result.timed_out = true;
    result.error = fmt::format("timed out after {}s (killed)", m_timeout);
    finish(std::move(result));
  }

  void finish_error(const std::string& message) {
    ProbeResult result = base_result();
    result.error = message;
    finish(std::move(result));
  }

  void finish(ProbeResult result) {
    m_timer.stop();
    m_poll.reset();
    auto done = std::move(m_done); // may destroy this probe
    if (done) {
      done(std::move(result));
    }
  }

  ExecProbes& m_owner;
  double m_timeout;
  ProbeDone m_done;
  uv::Timer m_timer;
  os::UniqueFd m_out; // declared before m_poll: closed after the poll handle
  uv::UvHandle<uv_poll_t> m_poll;
  pid_t m_pid = -1;
  uint64_t m_started = 0;
  std::string m_output;
};

std::unique_ptr<PendingProbe> ExecProbes::start(const process::LaunchSpec& spec, double timeout,
                                                ProbeDone done) {
  auto probe = std::make_unique<ExecProbe>(*this, timeout, std::move(done));
  probe->start(spec);
  return probe;
}

bool ExecProbes::claim_exit(pid_t pid, const core::ExitStatus& status) {
  if (m_abandoned.erase(pid) != 0) {
    return true;
  }
  auto it = m_running.find(pid);
  if (it == m_running.end()) {
    return false;
  }
  ExecProbe* probe = it->second;
  m_running.erase(it);
  probe->exited(status);
  return true;
}

} // namespace luvsup::health
