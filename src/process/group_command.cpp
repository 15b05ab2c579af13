#include "process/group_command.hpp"

#include "os/unique_fd.hpp"
#include "process/launcher.hpp"
#include "process/process_table.hpp"
#include "uv/handle.hpp"
#include "uv/timer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace luvsup::process {

namespace {

// Reads one non-blocking pipe into a CapturedOutput as the loop says it is
// readable, keeping up to `cap` bytes.
class PipeCapture {
public:
  PipeCapture(uv_loop_t* loop, int fd, size_t cap) : m_fd(fd), m_cap(cap) {
    if (fd < 0 || uv_poll_init(loop, m_poll.get(), fd) != 0) {
      return;
    }
    m_poll.mark_initialised();
    m_poll->data = this;
    uv_poll_start(m_poll.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
      if (auto* self = static_cast<PipeCapture*>(handle->data)) {
        self->drain();
      }
    });
  }
  PipeCapture(const PipeCapture&) = delete;
  PipeCapture& operator=(const PipeCapture&) = delete;

  // Reads what the pipe holds now; stops watching at its end.
  void drain() {
    if (m_fd.get() < 0) {
      return;
    }
    char buf[16384];
    for (;;) {
      const ssize_t n = ::read(m_fd.get(), buf, sizeof buf);
      if (n > 0) {
        const auto got = static_cast<size_t>(n);
        const size_t room = m_cap - std::min(m_output.text.size(), m_cap);
        const size_t kept = std::min(got, room);
        m_output.text.append(buf, kept);
        m_output.dropped += got - kept;
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

  CapturedOutput take() {
    m_poll.reset();
    return std::move(m_output);
  }

private:
  os::UniqueFd m_fd; // declared before m_poll: closed after the poll handle
  uv::UvHandle<uv_poll_t> m_poll;
  size_t m_cap;
  CapturedOutput m_output;
};

} // namespace

class GroupCommand final : public RunningCommand {
public:
  GroupCommand(GroupCommands& owner, const GroupCommandOptions& options, GroupCommandDone done)
      : m_owner(owner), m_options(options), m_done(std::move(done)), m_timer(owner.m_loop) {}

  ~GroupCommand() override {
    if (m_pid > 0) {
      abandon(); // cancelled while running: the group goes, the Reaper reaps it
    }
  }

  void start(const LaunchSpec& spec) {
    m_started = uv_hrtime();
    auto launched = launch(spec, m_options.separate_stderr);
    if (auto* error = std::get_if<LaunchError>(&launched)) {
      m_timer.start(0, [this, message = error->message()] {
        GroupCommandResult result = base_result();
        result.launch_error = message;
        finish(std::move(result));
      });
      return;
    }
    const auto& child = std::get<Launched>(launched);
    m_pid = child.pid;
    m_owner.m_running[m_pid] = this;
    m_out = std::make_unique<PipeCapture>(m_owner.m_loop, child.out_fd, m_options.max_output);
    m_err = std::make_unique<PipeCapture>(m_owner.m_loop, child.err_fd, m_options.max_output);
    if (m_options.timeout > 0) {
      m_timer.start(m_options.timeout, [this] { time_out(); });
    }
  }

  void exited(const core::ExitStatus& status) {
    // What the command left in its group goes with it.
    signal_group(m_pid, SIGKILL);
    m_pid = -1;
    GroupCommandResult result = base_result();
    result.status = status;
    finish(std::move(result));
  }

private:
  void abandon() {
    signal_group(m_pid, SIGKILL);
    m_owner.m_running.erase(m_pid);
    m_owner.m_abandoned.insert(m_pid);
    m_pid = -1;
  }

  void time_out() {
    abandon();
    GroupCommandResult result = base_result();
    result.timed_out = true;
    finish(std::move(result));
  }

  GroupCommandResult base_result() {
    GroupCommandResult result;
    result.latency = static_cast<double>(uv_hrtime() - m_started) / 1e9;
    for (auto [capture, output] :
         {std::pair{m_out.get(), &result.out}, {m_err.get(), &result.err}}) {
      if (capture != nullptr) {
        capture->drain();
        *output = capture->take();
      }
    }
    return result;
  }

  void finish(GroupCommandResult result) {
    m_timer.stop();
    auto done = std::move(m_done); // may destroy this command
    if (done) {
      done(std::move(result));
    }
  }

  GroupCommands& m_owner;
  GroupCommandOptions m_options;
  GroupCommandDone m_done;
  uv::Timer m_timer;
  std::unique_ptr<PipeCapture> m_out;
  std::unique_ptr<PipeCapture> m_err;
  pid_t m_pid = -1;
  uint64_t m_started = 0;
};

std::unique_ptr<RunningCommand> GroupCommands::start(const LaunchSpec& spec,
                                                     const GroupCommandOptions& options,
                                                     GroupCommandDone done) {
  auto command = std::make_unique<GroupCommand>(*this, options, std::move(done));
  command->start(spec);
  return command;
}

bool GroupCommands::claim_exit(pid_t pid, const core::ExitStatus& status) {
  if (m_abandoned.erase(pid) != 0) {
    return true;
  }
  auto it = m_running.find(pid);
  if (it == m_running.end()) {
    return false;
  }
  GroupCommand* command = it->second;
  m_running.erase(it);
  command->exited(status);
  return true;
}

} // namespace luvsup::process
