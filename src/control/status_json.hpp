// The status of a stack as JSON: the `status` reply's schema, documented in
// luvsup-control(7). Built from the supervisor's C++ state alone.
//
//   {"name":"web","state":"running","pid":4242,"uptime":12.5,"restarts":1,
//    "wanted":"up","held_down":false,"reason":null,
//    "last_exit":{"cause":"crashed","code":3,"signal":null,"core_dumped":false,
//                 "uptime":0.2,"time":1764579600.5,"description":"exited with code 3"},
//    "health":{"status":null,"since":null,"failures":0,"last_error":null}}
#pragma once

#include "core/supervisor.hpp"

#include <nlohmann/json.hpp>

namespace luvsup::control {

// One service's status; `now` is Platform::now().
nlohmann::json service_status(const core::Supervisor& supervisor, const core::Service& service,
                              double now);

// Why a service is not up when that needs explaining: a fatal service's
// reason, or what a starting one waits for ("waiting for db (healthy)").
// Null when there is nothing to explain.
nlohmann::json status_reason(const core::Supervisor& supervisor, const core::Service& service);

} // namespace luvsup::control
