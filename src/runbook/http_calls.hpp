// http.get, http.post and notify: the Lua calls that send an HTTP request and
// wait for its answer (runbook/http_request.hpp).
//
//   local r, err = http.get("http://127.0.0.1:5001/health", { timeout = 2 })
//   local r, err = http.post(url, json.encode(t), { content_type = "application/json" })
//   local ok, err = notify { webhook = url, text = "web is down", fields = { host = "a" } }
//
// http.* return { status, body, headers = { lowercased name = value } } (any
// status) or nil and "http.get: connection refused"; notify returns true, or
// nil and why (a status that is not 2xx is an error). Bad arguments raise.
#pragma once

extern "C" {
#include <lua.h>
}

namespace luvsup::runbook {

// Pushes the `http` table: get and post.
void push_http_library(lua_State* L);

int l_notify(lua_State* L);

} // namespace luvsup::runbook
