#include "core/supervisor_control.hpp"

#include "core/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace luvsup::core {

// Destroying it stops the wait; harmless once the control is gone.
class SupervisorControl::Handle final : public runbook::ConditionWatch {
public:
  Handle(std::weak_ptr<Watches> watches, uint64_t id) : m_watches(std::move(watches)), m_id(id) {}
  ~Handle() override {
    if (auto watches = m_watches.lock()) {
      std::erase_if(*watches, [this](const Watch& w) { return w.id == m_id; });
    }
  }

private:
  std::weak_ptr<Watches> m_watches;
  uint64_t m_id;
};

SupervisorControl::SupervisorControl(Supervisor& supervisor, Platform& platform)
    : m_supervisor(supervisor), m_platform(platform), m_watches(std::make_shared<Watches>()),
      m_deliver_timer(platform.make_timer()) {}

SupervisorControl::~SupervisorControl() = default;

bool SupervisorControl::known_condition(const std::string& condition) {
  return condition == "started" || condition == "healthy" || condition == "completed" ||
         condition == "stopped";
}

std::optional<runbook::ServiceSnapshot> SupervisorControl::find(std::string_view name) const {
  const Service* service = m_supervisor.find(name);
  if (service == nullptr || m_supervisor.retiring(*service)) {
    return std::nullopt;
  }
  runbook::ServiceSnapshot snap;
  snap.name = service->name();
  snap.state = std::string(to_string(service->state()));
  snap.pid = service->main_running() ? service->pid() : -1;
  snap.restarts = service->restarts();
  snap.ready = service->ready();
  snap.health = std::string(to_string(service->health_state()));
  return snap;
}

Service* SupervisorControl::target(std::string_view name, std::string& error) const {
  Service* service = m_supervisor.find(name);
  if (service == nullptr || m_supervisor.retiring(*service)) {
    error = fmt::format("no service '{}' in the stack", name);
    return nullptr;
  }
  return service;
}

Service* SupervisorControl::target_to_run(std::string_view name, std::string& error) const {
  Service* service = target(name, error);
  if (service != nullptr && m_supervisor.shutting_down()) {
    error = "luvsup is stopping the stack";
    return nullptr;
  }
  return service;
}

std::string SupervisorControl::restart(std::string_view name) {
  std::string error;
  Service* service = target_to_run(name, error);
  if (service == nullptr) {
    return error;
  }
  switch (service->state()) {
  case ProcState::running:
  case ProcState::stopped:
  case ProcState::completed: m_supervisor.post(*service, ServiceEvent::hook_restart); return {};
  case ProcState::stopping:
  case ProcState::finishing:
    if (!service->wanted_up()) {
      m_supervisor.post(*service, ServiceEvent::start);  // once the stop is over
    }
    return {};
  case ProcState::fatal:
    return fmt::format("'{}' is fatal ({}); its restart policy gave up, svc:start() starts it again",
                       service->name(), service->fatal_reason());
  case ProcState::backoff:
  case ProcState::crash_looping:  // its pending restart stands, with its delay
  case ProcState::starting:
  case ProcState::blocked:
  case ProcState::preparing: return {};
  }
  return {};
}

std::string SupervisorControl::stop(std::string_view name) {
  std::string error;
  Service* service = target(name, error);
  if (service != nullptr) {
    m_supervisor.stop(*service);
  }
  return error;
}

std::string SupervisorControl::start(std::string_view name) {
  std::string error;
  Service* service = target_to_run(name, error);
  if (service != nullptr) {
    m_supervisor.start(*service);
  }
  return error;
}

std::string SupervisorControl::signal(std::string_view name, int sig) {
  std::string error;
  Service* service = target(name, error);
  if (service == nullptr) {
    return error;
  }
  if (!service->has_process()) {
    return fmt::format("'{}' has no process ({})", service->name(), to_string(service->state()));
  }
  m_platform.send_signal(service->spec(), service->pgid(),
                         service->main_running() ? service->pid() : -1, sig);
  return {};
}

std::optional<std::string> SupervisorControl::service_of_pid(pid_t pid) const {
  if (pid <= 0) {
    return std::nullopt;
  }
  for (const auto& service : m_supervisor.services()) {
    if (service->has_process() && (service->pid() == pid || service->pgid() == pid)) {
      return service->name();
    }
  }
  auto owner = m_platform.service_of_process(pid);
  if (owner && m_supervisor.find(*owner) != nullptr) {
    return owner;
  }
  return std::nullopt;
}

std::unique_ptr<runbook::ConditionWatch> SupervisorControl::watch(
    std::string_view name, std::string condition, std::function<void(std::string)> met) {
  const uint64_t id = m_next_id++;
  m_watches->push_back(Watch{id, std::string(name), std::move(condition), std::move(met), {}});
  Watch& added = m_watches->back();
  const Service* service = m_supervisor.find(name);
  if (service != nullptr && m_supervisor.retiring(*service)) {
    service = nullptr;
  }
  if (auto result = verdict(service, added.name, added.condition)) {
    latch(added, std::move(*result));
  }
  return std::make_unique<Handle>(m_watches, id);
}

std::optional<std::string> SupervisorControl::verdict(const Service* service,
                                                      const std::string& name,
                                                      const std::string& condition) const {
  if (!known_condition(condition)) {
    return fmt::format("unknown condition '{}'; expected started, healthy, completed or stopped",
                       condition);
  }
  if (service == nullptr) {
    return fmt::format("no service '{}' in the stack", name);
  }
  if (condition == "stopped") {
    return m_supervisor.at_rest(*service) ? std::optional<std::string>("") : std::nullopt;
  }
  if (m_supervisor.condition_met(*service, condition)) {
    return "";
  }
  if (service->state() == ProcState::fatal) {
    return fmt::format("'{}' is fatal ({})", name, service->fatal_reason());
  }
  if (condition == "completed" && service->state() == ProcState::stopped) {
    return fmt::format("'{}' stopped without completing", name);
  }
  return std::nullopt;
}

void SupervisorControl::latch(Watch& watch, std::string result) {
  watch.result = std::move(result);
  m_deliver_timer->start(0, [this] { deliver(); });
}

void SupervisorControl::check(const Service& service) {
  for (Watch& watch : *m_watches) {
    if (!watch.result && watch.name == service.name()) {
      if (auto result = verdict(&service, watch.name, watch.condition)) {
        latch(watch, std::move(*result));
      }
    }
  }
}

void SupervisorControl::check_all() {
  for (Watch& watch : *m_watches) {
    if (watch.result) {
      continue;
    }
    const Service* service = m_supervisor.find(watch.name);
    if (service != nullptr && m_supervisor.retiring(*service)) {
      service = nullptr;
    }
    if (auto result = verdict(service, watch.name, watch.condition)) {
      latch(watch, std::move(*result));
    }
  }
}

void SupervisorControl::removed(const std::string& name) {
  for (Watch& watch : *m_watches) {
    if (!watch.result && watch.name == name) {
      latch(watch, fmt::format("'{}' was removed from the stack", name));
    }
  }
}

void SupervisorControl::deliver() {
  // One at a time: a callback may cancel or add other watches.
  for (;;) {
    auto it = std::find_if(m_watches->begin(), m_watches->end(),
                           [](const Watch& w) { return w.result.has_value(); });
    if (it == m_watches->end()) {
      return;
    }
    std::function<void(std::string)> met = std::move(it->met);
    std::string result = std::move(*it->result);
    m_watches->erase(it);
    if (met) {
      met(std::move(result));
    }
  }
}

}  // namespace luvsup::core
