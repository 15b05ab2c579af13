#include "runbook/http_calls.hpp"

#include "runbook/environment.hpp"
#include "runbook/http_request.hpp"
#include "runbook/lua_args.hpp"
#include "runbook/lua_json.hpp"
#include "runbook/webhook_payload.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <cstdio>

namespace luvsup::runbook {

namespace {

constexpr int k_level = k_caller_of_shim;
constexpr double k_default_timeout = 10;

// What the protected bodies read the arguments into; `call` names the Lua
// function in messages.
struct HttpCall {
  const char* call = "";
  health::HttpRequestSpec spec;
  std::string webhook_text;      // notify
  nlohmann::json webhook_fields; // notify
  std::string content_type;      // http.post
  std::string json_error;        // a body or fields that cannot be encoded
};

std::string string_at(lua_State* L, int index) {
  size_t length = 0;
  const char* text = lua_tolstring(L, index, &length);
  return std::string(text, length);
}

void read_string(lua_State* L, HttpCall& c, int index, const char* what, std::string& to) {
  if (lua_type(L, index) != LUA_TSTRING) {
    raise_at(L, k_level, "%s: %s must be a string (got a %s)", c.call, what, type_name(L, index));
  }
  guarded(L, c.call, [&] { to = string_at(L, index); });
}

// The options every request takes; stack: `options` is a table or nil.
void read_request_options(lua_State* L, HttpCall& c, int options, bool post) {
  c.spec.timeout = k_default_timeout;
  if (lua_isnoneornil(L, options)) {
    return;
  }
  if (!lua_istable(L, options)) {
    raise_at(L, k_level, "%s: the options are a table (got a %s)", c.call, type_name(L, options));
  }
  if (post) {
    check_keys(L, options, k_level, c.call, {"headers", "timeout", "tls_verify", "content_type"},
               false);
  } else {
    check_keys(L, options, k_level, c.call, {"headers", "timeout", "tls_verify"}, false);
  }
  lua_getfield(L, options, "timeout");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0)) {
      raise_at(L, k_level, "%s: timeout must be a positive number of seconds (got %s)", c.call,
               luaL_tolstring(L, -1, nullptr));
    }
    c.spec.timeout = lua_tonumber(L, -1);
  }
  lua_getfield(L, options, "tls_verify");
  if (!lua_isnil(L, -1)) {
    if (!lua_isboolean(L, -1)) {
      raise_at(L, k_level, "%s: tls_verify must be true or false (got a %s)", c.call,
               type_name(L, -1));
    }
    c.spec.tls_verify = lua_toboolean(L, -1) != 0;
  }
  lua_getfield(L, options, "headers");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) {
      raise_at(L, k_level, "%s: headers must be a table of Name = value (got a %s)", c.call,
               type_name(L, -1));
    }
    const int headers = lua_absindex(L, -1);
    lua_pushnil(L);
    while (lua_next(L, headers) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING ||
          (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)) {
        raise_at(L, k_level, "%s: headers must map names to strings (%s = a %s)", c.call,
                 luaL_tolstring(L, -2, nullptr), type_name(L, -1));
      }
      lua_pushvalue(L, -1);
      lua_tolstring(L, -1, nullptr); // converts the copy of a number (may raise, here)
      guarded(L, c.call, [&] { c.spec.headers.emplace_back(string_at(L, -3), string_at(L, -1)); });
      lua_pop(L, 2); // stack: key
    }
  }
}

// stack: 1 = the HttpCall, 2 = url, 3 = options
int get_body(lua_State* L) {
  auto& c = *static_cast<HttpCall*>(lua_touserdata(L, 1));
  read_string(L, c, 2, "the URL", c.spec.url);
  read_request_options(L, c, 3, false);
  return 0;
}

// stack: 1 = the HttpCall, 2 = url, 3 = body, 4 = options
int post_body(lua_State* L) {
  auto& c = *static_cast<HttpCall*>(lua_touserdata(L, 1));
  read_string(L, c, 2, "the URL", c.spec.url);
  read_request_options(L, c, 4, true);
  c.spec.method = "POST";
  // No C++ objects in this frame: a raise would skip their destructors.
  const char* content_type = "application/x-www-form-urlencoded";
  if (lua_istable(L, 3)) {
    bool encoded = false;
    guarded(L, c.call, [&] {
      nlohmann::json document;
      encoded = to_json(L, 3, document, c.json_error);
      if (encoded) {
        c.spec.body = document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    });
    if (!encoded) {
      raise_at(L, k_level, "%s: the body table cannot be sent as JSON: %s", c.call,
               c.json_error.c_str());
    }
    content_type = "application/json";
  } else if (!lua_isnoneornil(L, 3)) {
    read_string(L, c, 3, "the body", c.spec.body);
  }
  guarded(L, c.call, [&] { c.content_type = content_type; });
  if (lua_istable(L, 4)) {
    lua_getfield(L, 4, "content_type");
    if (!lua_isnil(L, -1)) {
      read_string(L, c, -1, "content_type", c.content_type);
    }
  }
  guarded(L, c.call, [&] { c.spec.headers.emplace_back("Content-Type", c.content_type); });
  return 0;
}

// stack: 1 = the HttpCall, 2 = the notify table
int notify_body(lua_State* L) {
  auto& c = *static_cast<HttpCall*>(lua_touserdata(L, 1));
  if (!lua_istable(L, 2)) {
    raise_at(L, k_level, "notify: give notify { webhook = url, text = \"...\" } (got a %s)",
             type_name(L, 2));
  }
  check_keys(L, 2, k_level, "notify", {"webhook", "text", "fields", "timeout"}, false);
  lua_getfield(L, 2, "webhook");
  if (lua_isnil(L, -1)) {
    raise_at(L, k_level, "notify: webhook (the URL to post to) is required");
  }
  read_string(L, c, -1, "webhook", c.spec.url);
  lua_getfield(L, 2, "text");
  if (!lua_isnil(L, -1)) {
    read_string(L, c, -1, "text", c.webhook_text);
  }
  lua_getfield(L, 2, "fields");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) {
      raise_at(L, k_level, "notify: fields must be a table of name = value (got a %s)",
               type_name(L, -1));
    }
    bool encoded = false;
    guarded(L, c.call, [&] { encoded = to_json(L, -1, c.webhook_fields, c.json_error); });
    if (!encoded || !c.webhook_fields.is_object()) {
      raise_at(L, k_level, "notify: fields must be a table of name = value%s%s",
               c.json_error.empty() ? "" : ": ", c.json_error.c_str());
    }
  }
  lua_getfield(L, 2, "timeout");
  c.spec.timeout = k_default_timeout;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0)) {
      raise_at(L, k_level, "notify: timeout must be a positive number of seconds (got %s)",
               luaL_tolstring(L, -1, nullptr));
    }
    c.spec.timeout = lua_tonumber(L, -1);
  }
  return 0;
}

int push_response(lua_State* L, const char* call, const HttpResponse& response) {
  if (!response.error.empty()) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", call, response.error.c_str());
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, response.status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, response.body.data(), response.body.size());
  lua_setfield(L, -2, "body");
  lua_createtable(L, 0, static_cast<int>(response.headers.size()));
  for (const auto& [name, value] : response.headers) {
    lua_getfield(L, -1, name.c_str()); // a repeated header: its values joined by ", "
    if (lua_isstring(L, -1)) {
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, value.data(), value.size());
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, value.data(), value.size());
    }
    lua_setfield(L, -2, name.c_str());
  }
  lua_setfield(L, -2, "headers");
  return 1;
}

// Starts the request of `c` for `waiter`; returns false with why in `error` if it cannot.
bool start_request(Waiter& waiter, HttpCall& c, bool notify, char* error, size_t size) noexcept {
  http::HttpClient* client = waiter.environment().http;
  if (client == nullptr) {
    std::snprintf(error, size, "%s: not available here (luvsup check sends no requests)", c.call);
    return false;
  }
  try {
    Completion complete = waiter.completion();
    if (notify) {
      std::string payload = webhook_payload(c.webhook_text, c.webhook_fields);
      waiter.wait(start_notify(*client, c.spec.url, std::move(payload), c.spec.timeout,
                               [complete](std::string why) {
                                 complete([why = std::move(why)](lua_State* co) {
                                   if (why.empty()) {
                                     lua_pushboolean(co, 1);
                                     return 1;
                                   }
                                   lua_pushnil(co);
                                   lua_pushfstring(co, "notify: %s", why.c_str());
                                   return 2;
                                 });
                               }));
    } else {
      waiter.wait(start_http(*client, c.spec, [complete, call = c.call](HttpResponse response) {
        complete([call, response = std::move(response)](lua_State* co) {
          return push_response(co, call, response);
        });
      }));
    }
  } catch (...) {
    std::snprintf(error, size, "%s: out of memory", c.call);
    return false;
  }
  return true;
}

// The shim every call shares: read the arguments with `body`, start, wait.
int request_call(lua_State* L, const char* call, lua_CFunction body, int args, bool notify) {
  Waiter& waiter = begin_wait(L, call);
  lua_settop(L, args);
  int status = LUA_OK;
  char error[160] = {};
  bool started = false;
  {
    HttpCall c;
    c.call = call;
    status = protect(L, body, &c);
    started = status == LUA_OK && start_request(waiter, c, notify, error, sizeof error);
  }
  if (status != LUA_OK) {
    return lua_error(L);
  }
  if (!started) {
    return luaL_error(L, "%s", error);
  }
  return yield(L);
}

int l_http_get(lua_State* L) {
  return request_call(L, "http.get", get_body, 2, false);
}
int l_http_post(lua_State* L) {
  return request_call(L, "http.post", post_body, 3, false);
}

} // namespace

void push_http_library(lua_State* L) {
  static const luaL_Reg k_functions[] = {
      {"get", l_http_get}, {"post", l_http_post}, {nullptr, nullptr}};
  luaL_newlib(L, k_functions);
}

int l_notify(lua_State* L) {
  return request_call(L, "notify", notify_body, 1, true);
}

} // namespace luvsup::runbook
