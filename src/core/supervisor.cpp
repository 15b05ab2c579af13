#include "core/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>

namespace luvsup::core {

Supervisor::Supervisor(Platform& platform)
    : m_platform(platform), m_drop_timer(platform.make_timer()),
      m_control(std::make_unique<SupervisorControl>(*this, platform)) {}

Supervisor::~Supervisor() = default;

std::unique_ptr<Service> Supervisor::make_service(std::shared_ptr<const ServiceSpec> spec) {
  auto service = std::make_unique<Service>(std::move(spec), m_platform,
                                           [this](Service& s, ServiceEvent e) { post(s, e); });
  service->set_state_observer([this](const Service& s, ProcState from) { observe(s, from); });
  return service;
}

void Supervisor::add(std::shared_ptr<const ServiceSpec> spec) {
  m_services.push_back(make_service(std::move(spec)));
}

void Supervisor::set_state_observer(Service::StateObserver observer) {
  m_state_observer = std::move(observer);
}

void Supervisor::observe(const Service& service, ProcState from) {
  if (m_state_observer) {
    m_state_observer(service, from);
  }
  m_control->check(service);
}

void Supervisor::hold_down(const std::string& name, bool held) {
  if (held) {
    m_held_down.insert(name);
  } else {
    m_held_down.erase(name);
  }
}

Service* Supervisor::find(std::string_view name) const {
  for (const auto& service : m_services) {
    if (service->name() == name) {
      return service.get();
    }
  }
  return nullptr;
}

void Supervisor::start_all() {
  for (const auto& service : m_services) {
    if (service->spec().autostart && !held_down(*service)) {
      m_queue.emplace_back(service.get(), ServiceEvent::start);
    }
  }
  drain();
}

void Supervisor::start(Service& service) { post(service, ServiceEvent::start); }
void Supervisor::stop(Service& service) { post(service, ServiceEvent::stop); }
void Supervisor::restart(Service& service) { post(service, ServiceEvent::restart); }

void Supervisor::shutdown(std::function<void(bool clean)> done) {
  m_on_shutdown_done = std::move(done);
  if (!m_shutting_down) {
    m_shutting_down = true;
    spdlog::info("stopping the stack");
    // Stops already under way (a user's stop, an after_stop hook) now count
    // as the shutdown's, bounded like it by the stop timeout.
    for (const auto& service : m_services) {
      const ProcState state = service->state();
      if ((state == ProcState::stopping || state == ProcState::finishing) && !service->wanted_up()) {
        m_queue.emplace_back(service.get(), ServiceEvent::shutdown);
      }
    }
  }
  drain();
}

void Supervisor::kill_all() {
  spdlog::warn("second interrupt: killing every service now");
  m_shutting_down = true;
  for (const auto& service : m_services) {
    m_queue.emplace_back(service.get(), ServiceEvent::kill);
  }
  drain();
}

void Supervisor::on_process_exit(pid_t pid, const ExitStatus& status) {
  for (const auto& service : m_services) {
    if (service->pid() == pid && service->main_running()) {
      service->set_exit_status(status);
      post(*service, ServiceEvent::exited);
      return;
    }
  }
  spdlog::debug("reaped pid {} (a leftover descendant)", pid);
}

void Supervisor::report_ready(Service& service, std::string_view source) {
  service.set_ready_source(std::string(source));
  post(service, ServiceEvent::ready);
}

void Supervisor::report_health_failure(Service& service, std::string reason) {
  if (service.state() != ProcState::running) {
    return;
  }
  spdlog::warn("{}: unhealthy: {}", service.name(), reason);
  service.set_unhealthy_reason(std::move(reason));
  post(service, ServiceEvent::unhealthy);
}

void Supervisor::post(Service& service, ServiceEvent event) {
  m_queue.emplace_back(&service, event);
  drain();
}

void Supervisor::drain() {
  if (m_draining) {
    return;  // the outer drain picks the new event up
  }
  m_draining = true;
  do {
    while (!m_queue.empty()) {
      auto [service, event] = m_queue.front();
      m_queue.pop_front();
      service->handle(event);
    }
    evaluate();
  } while (!m_queue.empty());
  m_draining = false;
  m_control->check_all();  // readiness changes no state: watches look after each drain
  if (std::any_of(m_retiring.begin(), m_retiring.end(),
                  [this](const Service* s) { return at_rest(*s); })) {
    m_drop_timer->start(0, [this] { drop_retired(); });
  }

  if (m_shutting_down && !m_done_called && m_on_shutdown_done &&
      std::all_of(m_services.begin(), m_services.end(),
                  [this](const auto& s) { return at_rest(*s); })) {
    m_done_called = true;
    const bool clean = std::none_of(m_services.begin(), m_services.end(),
                                    [](const auto& s) { return s->killed_at_shutdown(); });
    m_on_shutdown_done(clean);
  }
}

bool Supervisor::at_rest(const Service& service) const {
  switch (service.state()) {
  case ProcState::stopped:
  case ProcState::completed:
  case ProcState::fatal: return true;
  default: return false;
  }
}

bool Supervisor::condition_met(const Service& dependency, const std::string& condition) const {
  if (condition == "completed") {
    return dependency.state() == ProcState::completed;
  }
  if (condition == "healthy") {
    return dependency.ready() || dependency.state() == ProcState::completed;
  }
  return dependency.started();
}

std::string Supervisor::blocked_reason(const Service& service) const {
  for (const auto& dep : service.spec().depends_on) {
    const Service* other = find(dep.name);
    if (other == nullptr || condition_met(*other, dep.condition)) {
      continue;
    }
    if (other->state() == ProcState::fatal) {
      return fmt::format("dependency '{}' is fatal ({})", dep.name, other->fatal_reason());
    }
    if (other->state() == ProcState::crash_looping) {
      return fmt::format("dependency '{}' is crash-looping", dep.name);
    }
    if (service.start_overdue()) {
      return fmt::format("dependency '{}' not {} within {}s", dep.name,
                         dep.condition == "started" ? "started" : dep.condition == "healthy" ? "ready" : "completed",
                         service.spec().start_timeout);
    }
  }
  return {};
}

bool Supervisor::has_active_dependents(const Service& service) const {
  for (const auto& other : m_services) {
    if (at_rest(*other)) {
      continue;
    }
    for (const auto& dep : other->spec().depends_on) {
      if (dep.name == service.name()) {
        return true;
      }
    }
  }
  return false;
}

void Supervisor::evaluate() {
  if (m_shutting_down) {
    // Every path that handles `shutdown` clears wanted_up, so each service is
    // told once, as soon as nothing that depends on it is still up.
    for (const auto& service : m_services) {
      if (!at_rest(*service) && service->wanted_up() && !has_active_dependents(*service)) {
        m_queue.emplace_back(service.get(), ServiceEvent::shutdown);
      }
    }
    return;
  }
  for (Service* gone : m_retiring) {
    // Removed by a reload: stopped like at shutdown, dependents first.
    if (!at_rest(*gone) && gone->wanted_up() && !has_active_dependents(*gone)) {
      m_queue.emplace_back(gone, ServiceEvent::stop);
    }
  }
  for (const auto& service : m_services) {
    const ProcState state = service->state();
    if ((state != ProcState::starting && state != ProcState::blocked) || retiring(*service)) {
      continue;
    }
    bool ready = true;
    for (const auto& dep : service->spec().depends_on) {
      Service* other = find(dep.name);
      if (other == nullptr || condition_met(*other, dep.condition)) {
        continue;
      }
      ready = false;
      if (other->state() == ProcState::stopped && !held_down(*other)) {
        m_queue.emplace_back(other, ServiceEvent::start);  // pulled in by a dependent
      }
    }
    if (ready) {
      m_queue.emplace_back(service.get(), ServiceEvent::deps_met);
    } else if (std::string reason = blocked_reason(*service); !reason.empty()) {
      if (state == ProcState::starting) {
        service->set_block_reason(std::move(reason));
        m_queue.emplace_back(service.get(), ServiceEvent::deps_failed);
      } else if (reason != service->block_reason()) {
        service->set_block_reason(std::move(reason));  // still blocked, now for this
      }
    }
  }
}

}  // namespace luvsup::core
