#include "lua/lua_script_probe.hpp"

#include "core/platform.hpp"

namespace luvsup::lua {

namespace {

class PendingRun final : public health::PendingProbe {
public:
  explicit PendingRun(std::unique_ptr<runbook::RunHandle> run) : m_run(std::move(run)) {}

private:
  std::unique_ptr<runbook::RunHandle> m_run;
};

}  // namespace

LuaScriptProbe::LuaScriptProbe(std::shared_ptr<LuaState> state, std::shared_ptr<runbook::Scheduler> scheduler,
                               LuaRef function, std::string service_name)
    : m_state(std::move(state)), m_scheduler(std::move(scheduler)), m_function(std::move(function)),
      m_name(std::move(service_name)) {}

std::unique_ptr<health::PendingProbe> LuaScriptProbe::start(double timeout, health::ProbeDone done) {
  core::Platform* platform = m_scheduler->environment().platform;
  const double started = platform != nullptr ? platform->now() : 0;
  auto result = std::make_shared<health::ProbeResult>();
  runbook::RunInfo info;
  info.label = m_name + ": health probe";
  info.service = m_name;
  info.timeout = timeout;
  auto push = [self = shared_from_this()](lua_State* co) {
    self->m_function.push(co);
    return 0;
  };
  auto read = [result](lua_State* co, int nresults) {
    result->ok = nresults >= 1 && lua_toboolean(co, 1) != 0;
    if (!result->ok) {
      const char* why = nresults >= 2 ? lua_tostring(co, 2) : nullptr;
      result->error = why != nullptr ? why : "returned false";
    }
  };
  auto finished = [result, done = std::move(done), platform, started](runbook::RunOutcome outcome) {
    result->latency = platform != nullptr ? platform->now() - started : 0;
    if (outcome.status == runbook::RunOutcome::Status::failed) {
      result->ok = false;
      result->error = "raised: " + outcome.error.substr(0, outcome.error.find('\n'));
    } else if (outcome.status == runbook::RunOutcome::Status::timed_out) {
      result->ok = false;
      result->timed_out = true;
      result->error = outcome.error;
    }
    done(std::move(*result));
  };
  return std::make_unique<PendingRun>(
      m_scheduler->start(std::move(info), std::move(push), std::move(read), std::move(finished)));
}

}  // namespace luvsup::lua
