#include "control/control_plane.hpp"

#include <spdlog/spdlog.h>

namespace luvsup::control {

ControlPlane::ControlPlane(const lua::StackDefinition& definition, core::Supervisor& supervisor,
                           core::Platform& platform, events::EventBus& bus,
                           StackActions actions)
    : m_supervisor(supervisor), m_desired(definition.state_dir),
      m_service(supervisor, platform, bus, m_desired,
                StackInfo{definition.name, definition.file, platform.now()}, std::move(actions)) {}

ControlPlane::~ControlPlane() {
  m_supervisor.set_state_observer(nullptr);
}

std::variant<std::unique_ptr<ControlPlane>, std::string>
ControlPlane::open(uv_loop_t* loop, const lua::StackDefinition& definition,
                   const std::string& socket_path, core::Supervisor& supervisor,
                   core::Platform& platform, events::EventBus& bus,
                   StackActions actions) {
  auto plane =
      std::make_unique<ControlPlane>(definition, supervisor, platform, bus, std::move(actions));
  if (auto error = plane->m_desired.load()) {
    spdlog::warn("control: {}", *error);
  }
  for (const auto& name : plane->m_desired.stopped()) {
    if (supervisor.find(name) != nullptr) {
      spdlog::info("{}: stays stopped (stopped with `luvsup stop`; `luvsup start {}` clears it)",
                   name, name);
      supervisor.hold_down(name, true);
    }
  }
  supervisor.set_state_observer([&bus, &platform](const core::Service& service,
                                                  core::ProcState from) {
    bus.publish(events::StateChange{service.name(), from, service.state(), platform.wall_now()});
  });
  auto server = ControlServer::listen(
      loop, socket_path, [raw = plane.get()](Connection& client, std::string_view line) {
        raw->m_service.handle_line(client, line);
      });
  if (auto* error = std::get_if<std::string>(&server)) {
    return *error;
  }
  plane->m_server = std::move(std::get<std::unique_ptr<ControlServer>>(server));
  spdlog::info("control socket: {}", plane->m_server->path());
  return plane;
}

} // namespace luvsup::control
