// What the last reload of the running stack did: "last reload: failed, why,
// when", kept for the status.
#pragma once

#include <string>

namespace luvsup::core {

struct LastReload {
  bool attempted = false;  // no reload yet
  bool ok = false;
  std::string trigger;     // "file change", "SIGHUP", "luvsup reload"
  std::string message;     // the applied plan's log line, or the load error (file:line first)
  double wall_time = 0;    // seconds since the epoch
};

}  // namespace luvsup::core
