// Everything `luvsup run` serves on its control socket, in one owner: the
// desired-state file, the request handlers and the socket itself.
//
// The event bus is not owned here: service logs publish into it until the
// platform is gone, so it must outlive both (run_command keeps it first).
#pragma once

#include "control/control_server.hpp"
#include "control/control_service.hpp"
#include "control/desired_state.hpp"
#include "core/platform.hpp"
#include "core/supervisor.hpp"
#include "events/event_bus.hpp"
#include "lua/stack_loader.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <variant>

namespace luvsup::control {

class ControlPlane {
public:
  // Loads the desired state (holding down services stopped before), routes
  // state changes into `bus` and listens on `socket_path`. Returns why the
  // socket could not be served.
  static std::variant<std::unique_ptr<ControlPlane>, std::string>
  open(uv_loop_t* loop, const lua::StackDefinition& definition, const std::string& socket_path,
       core::Supervisor& supervisor, core::Platform& platform, events::EventBus& bus,
       StackActions actions);
  // Use open(); public only for std::make_unique.
  ControlPlane(const lua::StackDefinition& definition, core::Supervisor& supervisor,
               core::Platform& platform, events::EventBus& bus, StackActions actions);
  ~ControlPlane();

  const std::string& socket_path() const { return m_server->path(); }
  DesiredState& desired() { return m_desired; }

private:
  core::Supervisor& m_supervisor;
  DesiredState m_desired;
  ControlService m_service;
  std::unique_ptr<ControlServer> m_server;
};

} // namespace luvsup::control
