// What each control request does to the running stack. The server hands
// request lines here; replies go back on the same connection.
//
// Every request is answered: a bad line, an unknown command or service and
// a failing action get {"ok": false, "error": "..."} and change nothing.
// start, stop and restart check every name before acting on any.
#pragma once

#include "control/connection.hpp"
#include "control/desired_state.hpp"
#include "control/request.hpp"
#include "core/platform.hpp"
#include "core/supervisor.hpp"
#include "events/event_bus.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace luvsup::control {

struct StackInfo {
  std::string name;
  std::string file;
  double started_at = 0; // Platform::now() when luvsup started
};

class ControlService {
public:
  // `shutdown` begins the orderly stop of the stack (as SIGTERM does).
  ControlService(core::Supervisor& supervisor, core::Platform& platform, events::EventBus& bus,
                 DesiredState& desired, StackInfo stack, std::function<void()> shutdown);

  void handle_line(Connection& client, std::string_view line);

private:
  void handle(Connection& client, const Request& request);
  void status(Connection& client, const Request& request);
  void change(Connection& client, const Request& request);
  void logs(Connection& client, const Request& request);
  void pid(Connection& client, const Request& request);
  void signal(Connection& client, const Request& request);
  // The services a request names, or an error reply already sent (null).
  std::optional<std::vector<core::Service*>> resolve(Connection& client, const Request& request);
  void remember_stop(const std::string& name, bool stopped);

  core::Supervisor& m_supervisor;
  core::Platform& m_platform;
  events::EventBus& m_bus;
  DesiredState& m_desired;
  StackInfo m_stack;
  std::function<void()> m_shutdown;
};

// {"v":1,"id":..,"ok":false,"error":message}
nlohmann::json error_reply(const nlohmann::json& id, std::string message);
// {"v":1,"id":..,"ok":true,"error":null}
nlohmann::json ok_reply(const nlohmann::json& id);

} // namespace luvsup::control
