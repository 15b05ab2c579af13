#include "core/service_hooks.hpp"

namespace luvsup::core {

std::string_view to_string(HookKind kind) {
  switch (kind) {
  case HookKind::before_start: return "before_start";
  case HookKind::on_start: return "on_start";
  case HookKind::on_ready: return "on_ready";
  case HookKind::on_exit: return "on_exit";
  case HookKind::on_unhealthy: return "on_unhealthy";
  case HookKind::on_crash_loop: return "on_crash_loop";
  case HookKind::on_fatal: return "on_fatal";
  case HookKind::after_stop: return "after_stop";
  case HookKind::on_change: return "on_change";
  }
  return "unknown";
}

}  // namespace luvsup::core
