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
#include "core/last_reload.hpp"
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

// What a reload or a plan did: ok and its log line, or why it failed.
struct ActionResult {
  bool ok = false;
  std::string message;
};

// What the control plane asks of the stack as a whole.
struct StackActions {
  std::function<void()> shutdown;  // the orderly stop, as SIGTERM
  std::function<ActionResult()> reload;
  // What reloading to `file` (empty: the running stack's file) would do,
  // without doing it.
  std::function<ActionResult(const std::string& file)> plan;
  std::function<const core::LastReload&()> last_reload;  // for the status
};

class ControlService {
public:
  ControlService(core::Supervisor& supervisor, core::Platform& platform, events::EventBus& bus,
                 DesiredState& desired, StackInfo stack, StackActions actions);

  void handle_line(Connection& client, std::string_view line);

private:
  void handle(Connection& client, const Request& request);
  void status(Connection& client, const Request& request);
  void change(Connection& client, const Request& request);
  // The ok reply listing `services`' status, with the stack's when asked.
  void send_services(Connection& client, const Request& request,
                     const std::vector<core::Service*>& services, bool with_stack);
  void logs(Connection& client, const Request& request);
  void pid(Connection& client, const Request& request);
  void signal(Connection& client, const Request& request);
  void reload(Connection& client, const Request& request);
  void plan(Connection& client, const Request& request);
  // The services a request names, or an error reply already sent (null).
  std::optional<std::vector<core::Service*>> resolve(Connection& client, const Request& request);
  void remember_stop(const std::string& name, bool stopped);

  core::Supervisor& m_supervisor;
  core::Platform& m_platform;
  events::EventBus& m_bus;
  DesiredState& m_desired;
  StackInfo m_stack;
  StackActions m_actions;
};

// {"v":1,"id":..,"ok":false,"error":message}
nlohmann::json error_reply(const nlohmann::json& id, std::string message);
// {"v":1,"id":..,"ok":true,"error":null}
nlohmann::json ok_reply(const nlohmann::json& id);

} // namespace luvsup::control
