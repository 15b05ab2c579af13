// The status of a stack as JSON: the `status` reply's schema, documented in
// luvsup-control(7). Built from the supervisor's C++ state alone.
//
//   {"name":"web","state":"running","pid":4242,"uptime":12.5,"restarts":1,
//    "wanted":"up","held_down":false,"reason":null,
//    "last_exit":{"cause":"crashed","code":3,"signal":null,"core_dumped":false,
//                 "uptime":0.2,"time":1764579600.5,"description":"exited with code 3"},
//    "health":{"status":"healthy","since":1764579601.2,"failures":0,"last_error":null,
//              "latency":0.003,"ready":true}}
#pragma once

#include "control/json_writer.hpp"
#include "core/last_reload.hpp"
#include "core/supervisor.hpp"

#include <string>

namespace luvsup::control {

// Writes one service's status; `now` is Platform::now() and `wall_now` the
// time since the epoch at the same moment. Keys in sorted order, as the
// replies built with nlohmann::json have them.
void write_service_status(JsonWriter& out, const core::Supervisor& supervisor,
                          const core::Service& service, double now, double wall_now);

// The last reload: {"message":"stack.lua:3: ...","ok":false,"time":1764579600.5,
// "trigger":"file change"}, or null when there was none.
void write_last_reload(JsonWriter& out, const core::LastReload& last);

// Why a service is not up when that needs explaining: a fatal service's
// reason, or what a starting one waits for ("waiting for db (healthy)").
// Empty when there is nothing to explain (the status shows null).
std::string status_reason(const core::Supervisor& supervisor, const core::Service& service);

} // namespace luvsup::control
