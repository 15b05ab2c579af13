#include "runbook/command_runner.hpp"

#include "os/unique_fd.hpp"
#include "process/child_env.hpp"
#include "process/command_path.hpp"
#include "runbook/owned_op.hpp"
#include "uv/timer.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace luvsup::runbook {

namespace {

// The command's output as the script sees it: what was kept, and a line that
// says how much was not.
std::string with_marker(process::CapturedOutput output) {
  if (output.dropped > 0) {
    output.text +=
        fmt::format("\n[luvsup: output truncated, {} more bytes not kept]\n", output.dropped);
  }
  return std::move(output.text);
}

// A memory file holding `text`, for the child to open as its stdin through
// /proc/self/fd (it does so before execve, while the descriptor is still
// inherited): any size of input, without a pipe that the loop has to feed.
// Returns the descriptor, or -1 with errno.
int stdin_file(const std::string& text) {
  os::UniqueFd fd(memfd_create("luvsup-exec-stdin", MFD_CLOEXEC));
  if (fd.get() < 0) {
    return -1;
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    written += static_cast<size_t>(n);
  }
  return fd.release();
}

// An operation that has failed before it started: it reports from the loop.
class FailedExec final : public PendingOp {
public:
  FailedExec(uv_loop_t* loop, std::string error, ExecDone done) : m_timer(loop) {
    m_timer.start(0, [this, error = std::move(error), done = std::move(done)] {
      ExecResult result;
      result.error = error;
      done(std::move(result));
    });
  }

private:
  uv::Timer m_timer;
};

} // namespace

std::unique_ptr<PendingOp> CommandRunner::run(const ExecRequest& request, ExecDone done) {
  const std::string name = request.argv.empty() ? std::string() : request.argv.front();
  auto cannot_run = [name](const std::string& why) {
    return fmt::format("exec: cannot run '{}': {}", name, why);
  };
  if (name.empty()) {
    return std::make_unique<FailedExec>(m_commands.loop(), cannot_run("empty command"),
                                        std::move(done));
  }
  process::EnvList env = process::EnvList::inherited();
  for (const auto& [key, value] : request.env) {
    env.set(key, value);
  }
  auto path = process::find_command(name, process::search_path_of(env), request.cwd);
  if (auto* error = std::get_if<process::LaunchError>(&path)) {
    return std::make_unique<FailedExec>(m_commands.loop(), cannot_run(std::strerror(error->err)),
                                        std::move(done));
  }
  process::LaunchSpec spec;
  spec.path = std::move(std::get<std::string>(path));
  spec.argv = request.argv;
  spec.env = env.take();
  spec.cwd = request.cwd;
  os::UniqueFd input;
  if (request.stdin_text) {
    input.reset(stdin_file(*request.stdin_text));
    if (input.get() < 0) {
      return std::make_unique<FailedExec>(m_commands.loop(),
                                          cannot_run(std::string("stdin: ") + std::strerror(errno)),
                                          std::move(done));
    }
    spec.stdin_path = "/proc/self/fd/" + std::to_string(input.get());
  }
  process::GroupCommandOptions options;
  options.timeout = request.timeout;
  options.max_output = k_max_output;
  options.separate_stderr = true;
  // start() returns once the child has run execve, so `input` may close after it.
  auto command = m_commands.start(
      spec, options, [cannot_run, done = std::move(done)](process::GroupCommandResult r) {
        ExecResult result;
        if (!r.launch_error.empty()) {
          result.error = cannot_run(r.launch_error);
        } else {
          result.timed_out = r.timed_out;
          result.code = r.timed_out ? -1 : r.status.code;
          result.signal = r.timed_out ? SIGKILL : r.status.signal;
          result.out = with_marker(std::move(r.out));
          result.err = with_marker(std::move(r.err));
        }
        done(std::move(result));
      });
  return std::make_unique<OwnedOp<process::RunningCommand>>(std::move(command));
}

} // namespace luvsup::runbook
