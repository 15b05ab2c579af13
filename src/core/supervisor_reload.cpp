// Supervisor::apply_reload: carrying out a ReloadPlan on the running stack.
#include "core/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace luvsup::core {

std::vector<const ServiceSpec*> Supervisor::specs() const {
  std::vector<const ServiceSpec*> out;
  for (const auto& service : m_services) {
    if (!retiring(*service)) {
      out.push_back(&service->spec());
    }
  }
  return out;
}

bool Supervisor::retiring(const Service& service) const {
  return std::find(m_retiring.begin(), m_retiring.end(), &service) != m_retiring.end();
}

bool Supervisor::explicitly_stopped(const Service& service) const {
  // Every way to stop a service on request clears wanted_up, and nothing else
  // does while the stack runs: a fatal or backed-off service is still wanted.
  // A stop through the control socket also holds it down, across restarts of
  // luvsup, even before it has started.
  return !service.wanted_up() || held_down(service);
}

std::string Supervisor::apply_reload(const ReloadPlan& plan,
                                     std::vector<std::shared_ptr<const ServiceSpec>> next) {
  if (plan.empty()) {
    return "reload: no changes";
  }
  for (const auto& name : plan.removed) {
    Service* gone = find(name);
    if (gone != nullptr && !retiring(*gone)) {
      m_retiring.push_back(gone);
      gone->retire();  // its hooks in flight are cancelled
      m_control->removed(name);
    }
  }
  // The new declaration order, then the services on their way out.
  std::vector<std::unique_ptr<Service>> ordered;
  std::vector<Service*> revived;  // removed by an earlier reload, back before they were dropped
  for (auto& spec : next) {
    auto it = std::find_if(m_services.begin(), m_services.end(),
                           [&](const auto& s) { return s && s->name() == spec->name; });
    if (it == m_services.end()) {
      ordered.push_back(make_service(std::move(spec)));
      continue;
    }
    Service* service = it->get();
    if (auto r = std::find(m_retiring.begin(), m_retiring.end(), service); r != m_retiring.end()) {
      m_retiring.erase(r);
      revived.push_back(service);
    }
    service->replace_spec(std::move(spec));
    ordered.push_back(std::move(*it));
  }
  for (auto& service : m_services) {
    if (service) {
      ordered.push_back(std::move(service));
    }
  }
  m_services = std::move(ordered);

  std::string line = "reload:";
  for (const auto& name : plan.added) {
    line += " +" + name;
    Service* service = find(name);
    const bool was_removed = std::find(revived.begin(), revived.end(), service) != revived.end();
    if ((service->spec().autostart || was_removed) && !held_down(*service)) {
      m_queue.emplace_back(service, ServiceEvent::start);
    }
  }
  for (const auto& name : plan.removed) {
    line += " -" + name;
  }
  for (const auto& change : plan.changed) {
    if (Service* service = find(change.name)) {
      line += fmt::format(" ~{} ({}: {})", change.name, describe_cause(change),
                          apply_change(*service, change));
    }
  }
  drain();
  return line;
}

Supervisor::ChangeEffect Supervisor::effect_of(const Service& service,
                                               const ServiceChange& change) const {
  if (explicitly_stopped(service) || m_shutting_down) {
    return ChangeEffect::applied;
  }
  const ProcState state = service.state();
  const bool resting = state == ProcState::backoff || state == ProcState::crash_looping ||
                       state == ProcState::fatal;
  if (change.restarts()) {
    if (service.has_process()) {
      return ChangeEffect::restarted;
    }
    return resting || state == ProcState::completed ? ChangeEffect::started_again
                                                    : ChangeEffect::applied;
  }
  if (resting) {
    return ChangeEffect::started_again;
  }
  if (service.has_process() && service.pid() > 0) {
    return ChangeEffect::kept_pid;
  }
  return ChangeEffect::applied;
}

std::string Supervisor::describe_effect(ChangeEffect effect, const Service& service, bool preview) {
  switch (effect) {
  case ChangeEffect::restarted: return preview ? "would restart" : "restarted";
  case ChangeEffect::started_again: return preview ? "would start again" : "started again";
  case ChangeEffect::kept_pid:
    return fmt::format("{} pid {}", preview ? "would keep" : "kept", service.pid());
  case ChangeEffect::applied: break;
  }
  return preview ? "would apply" : "applied";
}

// Queues what the change needs and says, for the log, what that is.
std::string Supervisor::apply_change(Service& service, const ServiceChange& change) {
  const ChangeEffect effect = effect_of(service, change);
  if (!explicitly_stopped(service) && !m_shutting_down) {
    if (change.restarts()) {
      m_queue.emplace_back(&service, ServiceEvent::process_changed);
    } else if (effect == ChangeEffect::started_again) {
      m_queue.emplace_back(&service, ServiceEvent::definition_changed);
    }
  }
  return describe_effect(effect, service, false);
}

std::string Supervisor::preview_reload(const ReloadPlan& plan) const {
  if (plan.empty()) {
    return "plan: no changes";
  }
  std::string line = "plan:";
  for (const auto& name : plan.added) {
    line += " +" + name;
  }
  for (const auto& name : plan.removed) {
    line += " -" + name;
  }
  for (const auto& change : plan.changed) {
    if (const Service* service = find(change.name)) {
      line += fmt::format(" ~{} ({}: {})", change.name, describe_cause(change),
                          describe_effect(effect_of(*service, change), *service, true));
    }
  }
  return line;
}

void Supervisor::drop_retired() {
  for (auto it = m_retiring.begin(); it != m_retiring.end();) {
    Service* gone = *it;
    if (!at_rest(*gone)) {
      ++it;
      continue;
    }
    spdlog::info("{}: removed from the stack", gone->name());
    m_platform.service_removed(gone->spec());
    it = m_retiring.erase(it);
    std::erase_if(m_services, [gone](const auto& s) { return s.get() == gone; });
  }
}

}  // namespace luvsup::core
