#include "core/health_status.hpp"

namespace luvsup::core {

std::string_view to_string(HealthState state) {
  switch (state) {
  case HealthState::none:
    return "none";
  case HealthState::starting:
    return "starting";
  case HealthState::healthy:
    return "healthy";
  case HealthState::unhealthy:
    return "unhealthy";
  }
  return "unknown";
}

} // namespace luvsup::core
