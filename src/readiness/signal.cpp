#include "readiness/signal.hpp"

namespace luvsup::readiness {

const char* kind_name(SignalKind kind) {
  switch (kind) {
  case SignalKind::ready:
    return "ready";
  case SignalKind::status:
    return "status";
  case SignalKind::stopping:
    return "stopping";
  case SignalKind::watchdog_missed:
    return "watchdog missed";
  }
  return "?";
}

} // namespace luvsup::readiness
