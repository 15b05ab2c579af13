#include "health/exec_probe.hpp"

#include <fmt/format.h>

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

ProbeResult probe_result(process::GroupCommandResult command, double timeout) {
  ProbeResult result;
  result.latency = command.latency;
  result.output = std::move(command.out.text);
  if (!command.launch_error.empty()) {
    result.error = std::move(command.launch_error);
  } else if (command.timed_out) {
    result.timed_out = true;
    result.error = fmt::format("timed out after {}s (killed)", timeout);
  } else {
    const core::ExitStatus& status = command.status;
    result.ok = status.signal == 0 && status.code == 0;
    result.status = status.signal == 0 ? status.code : -1;
    if (!result.ok) {
      core::ExitRecord record;
      record.status = status;
      const std::string line = first_line(result.output);
      result.error = core::describe(record) + (line.empty() ? "" : ": " + line);
    }
  }
  return result;
}

// A probe in flight: its command, killed with its group when destroyed.
class ExecProbe final : public PendingProbe {
public:
  explicit ExecProbe(std::unique_ptr<process::RunningCommand> command)
      : m_command(std::move(command)) {}

private:
  std::unique_ptr<process::RunningCommand> m_command;
};

} // namespace

std::unique_ptr<PendingProbe> ExecProbes::start(const process::LaunchSpec& spec, double timeout,
                                                ProbeDone done) {
  process::GroupCommandOptions options;
  options.timeout = timeout;
  options.max_output = k_max_output;
  auto command = m_commands.start(spec, options,
                                  [timeout, done = std::move(done)](process::GroupCommandResult r) {
                                    done(probe_result(std::move(r), timeout));
                                  });
  return std::make_unique<ExecProbe>(std::move(command));
}

} // namespace luvsup::health
