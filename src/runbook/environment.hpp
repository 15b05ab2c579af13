// What waiting calls and helpers reach from inside Lua: one per luvsup
// process, shared by every Lua state (old and new coexist during a reload).
// A field left null makes the calls that need it raise a clear error (unit
// tests fill in only what they exercise).
#pragma once

#include <uv.h>

namespace luvsup::core {
class Platform;
}
namespace luvsup::http {
class HttpClient;
}

namespace luvsup::runbook {

class ServiceControl;
class CommandRunner;
class StateStore;

struct Environment {
  core::Platform* platform = nullptr;  // clocks and timers (sleep, hook timeouts)
  uv_loop_t* loop = nullptr;
  ServiceControl* services = nullptr;  // svc handles, service(), svc:wait, port_in_use owners
  CommandRunner* commands = nullptr;   // exec
  http::HttpClient* http = nullptr;    // http.get, http.post, notify
  StateStore* state = nullptr;         // state.get / state.set, kept across reloads
};

}  // namespace luvsup::runbook
