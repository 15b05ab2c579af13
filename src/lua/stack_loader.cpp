#include "lua/stack_loader.hpp"

#include "lua/data_dir.hpp"
#include "lua/lua_ref.hpp"
#include "lua/lua_restart_policy.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <utility>

namespace luvsup::lua {

namespace {

// The helpers below read the DSL's result table. They run inside
// LuaState::run, may raise, and so hold no objects with destructors: they
// write into objects owned by the caller.

// stack: t -> t; out = t[key] (must be a string)
void read_string(lua_State* L, const char* key, std::string& out) {
  if (lua_getfield(L, -1, key) == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    out.assign(s, len);
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "stack loader: field '%s' is a %s, expected a string", key, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
}

// stack: t -> t; returns t[key] as a number, or `fallback` when nil.
lua_Number read_number(lua_State* L, const char* key, lua_Number fallback) {
  lua_Number value = fallback;
  if (lua_getfield(L, -1, key) == LUA_TNUMBER) {
    value = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return value;
}

bool read_bool(lua_State* L, const char* key, bool fallback) {
  bool value = fallback;
  if (lua_getfield(L, -1, key) == LUA_TBOOLEAN) {
    value = lua_toboolean(L, -1) != 0;
  }
  lua_pop(L, 1);
  return value;
}

// stack: t -> t; appends the strings of the list t[key] to `out`.
void read_string_list(lua_State* L, const char* key, std::vector<std::string>& out) {
  if (lua_getfield(L, -1, key) == LUA_TTABLE) {
    const lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, -1, i);  // stack: t, list, s
      size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      out.emplace_back(s != nullptr ? s : "", s != nullptr ? len : 0);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

// stack: t -> t; calls fn for each element of the list t[key], with the
// element on top of the stack.
template <typename Fn> void for_each_in(lua_State* L, const char* key, Fn&& fn) {
  if (lua_getfield(L, -1, key) == LUA_TTABLE) {
    const lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, -1, i);  // stack: t, list, element
      fn();
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

rlim_t limit_value(lua_State* L, const char* key) {
  const auto v = static_cast<lua_Integer>(read_number(L, key, -1));
  return v < 0 ? RLIM_INFINITY : static_cast<rlim_t>(v);
}

// stack: svc -> svc; fills spec from the DSL's normalised service table.
void read_service(lua_State* L, core::ServiceSpec& spec) {
  read_string(L, "name", spec.name);
  read_string(L, "source_file", spec.source_file);
  spec.source_line = static_cast<int>(read_number(L, "source_line", 0));
  read_string_list(L, "argv", spec.argv);
  read_string(L, "cwd", spec.cwd);
  for_each_in(L, "env", [&] {
    spec.env.emplace_back();
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);  // stack: ..., pair, k, v
    spec.env.back().first = lua_tostring(L, -2);
    spec.env.back().second = lua_tostring(L, -1);
    lua_pop(L, 2);
  });
  read_string(L, "user", spec.user);
  read_string(L, "group", spec.group);
  if (const lua_Number umask = read_number(L, "umask", -1); umask >= 0) {
    spec.umask = static_cast<mode_t>(umask);
  }
  for_each_in(L, "limits", [&] {
    lua_getfield(L, -1, "name");  // stack: ..., limit, name
    const int resource = limit_resource(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (resource < 0) {
      luaL_error(L, "service '%s': unknown limit", spec.name.c_str());
    }
    spec.limits.push_back({resource, limit_value(L, "soft"), limit_value(L, "hard")});
  });
  read_string(L, "stdin", spec.stdin_path);
  spec.success_codes.clear();
  for_each_in(L, "success_codes", [&] { spec.success_codes.push_back(static_cast<int>(lua_tointeger(L, -1))); });
  for_each_in(L, "depends_on", [&] {
    spec.depends_on.emplace_back();
    read_string(L, "name", spec.depends_on.back().name);
    read_string(L, "condition", spec.depends_on.back().condition);
  });
  if (lua_getfield(L, -1, "stop") == LUA_TTABLE) {  // stack: svc, stop
    if (lua_getfield(L, -1, "signal") == LUA_TNUMBER) {
      spec.stop.signal = static_cast<int>(lua_tointeger(L, -1));
    } else if (lua_type(L, -1) == LUA_TSTRING) {
      spec.stop.signal = signal_number(lua_tostring(L, -1));
      if (spec.stop.signal == 0) {
        luaL_error(L, "service '%s': unknown signal %s", spec.name.c_str(), lua_tostring(L, -1));
      }
    }
    lua_pop(L, 1);
    spec.stop.timeout = read_number(L, "timeout", spec.stop.timeout);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, -1, "log") == LUA_TTABLE) {  // stack: svc, log
    read_string(L, "file", spec.log.file);
    spec.log.separate_stderr = read_bool(L, "separate_stderr", false);
    read_string(L, "stderr_file", spec.log.stderr_file);
    spec.log.max_size = static_cast<uint64_t>(read_number(L, "max_size", static_cast<lua_Number>(spec.log.max_size)));
    spec.log.keep = static_cast<unsigned>(read_number(L, "keep", spec.log.keep));
    spec.log.max_line = static_cast<size_t>(read_number(L, "max_line", static_cast<lua_Number>(spec.log.max_line)));
    spec.log.stall_timeout = read_number(L, "stall_timeout", spec.log.stall_timeout);
  }
  lua_pop(L, 1);
  spec.autostart = read_bool(L, "autostart", true);
  spec.oneshot = read_bool(L, "oneshot", false);
}

struct Refs {
  int decide = LUA_NOREF;
  int policy = LUA_NOREF;
};

// The parts of a load that outlive the protected body.
struct LoadOutput {
  StackDefinition def;
  std::vector<Refs> refs;
  std::string error;  // the DSL's validation message, when it returned one
};

// stack: (empty) -> (empty). Runs dsl.load and reads its result into out.
void run_dsl(lua_State* L, const std::string& given, const std::string& data_dir, LoadOutput& out) {
  luaL_checkstack(L, 10, "stack loader");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luvsup.backoff");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "decide");  // stack: backoff, decide
  const int decide = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luvsup.dsl");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "load");  // stack: backoff, decide, dsl, load
  lua_createtable(L, 0, 4);
  lua_pushstring(L, given.c_str());
  lua_setfield(L, -2, "file");
  lua_pushstring(L, out.def.file.c_str());
  lua_setfield(L, -2, "path");
  lua_pushstring(L, out.def.dir.c_str());
  lua_setfield(L, -2, "dir");
  lua_pushstring(L, data_dir.c_str());
  lua_setfield(L, -2, "data_dir");
  lua_call(L, 1, 2);  // stack: backoff, decide, dsl, result, err
  if (lua_isnil(L, -2)) {
    const char* msg = lua_tostring(L, -1);
    out.error = msg != nullptr ? msg : "stack loader: the DSL failed without a message";
    return;
  }
  lua_pop(L, 1);  // stack: backoff, decide, dsl, result
  read_string(L, "name", out.def.name);
  read_string(L, "log_dir", out.def.log_dir);
  read_string(L, "state_dir", out.def.state_dir);
  read_string(L, "control", out.def.control_socket);
  read_string_list(L, "loaded_files", out.def.loaded_files);
  for_each_in(L, "services", [&] {  // stack: ..., result, services, svc
    out.def.services.emplace_back();
    read_service(L, out.def.services.back());
    out.refs.emplace_back();
    lua_pushvalue(L, decide);  // stack: ..., svc, decide
    out.refs.back().decide = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "restart");  // stack: ..., svc, policy
    out.refs.back().policy = luaL_ref(L, LUA_REGISTRYINDEX);
  });
}

}  // namespace

int signal_number(const std::string& name) {
  if (name == "IOT") {
    return SIGABRT;
  }
  if (name == "POLL") {
    return SIGIO;
  }
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && name == abbrev) {
      return sig;
    }
  }
  return 0;
}

int limit_resource(const std::string& name) {
  static const std::pair<const char*, int> k_limits[] = {
      {"as", RLIMIT_AS},         {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},     {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
      {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
      {"rtprio", RLIMIT_RTPRIO}, {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
  };
  for (const auto& [n, resource] : k_limits) {
    if (name == n) {
      return resource;
    }
  }
  return -1;
}

std::variant<StackDefinition, LoadError> load_stack(const std::string& path) {
  namespace fs = std::filesystem;
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) {
    return LoadError{path + ": cannot open stack file: " + std::strerror(errno)};
  }
  LoadOutput out;
  out.def.file = real;
  std::free(real);
  out.def.dir = fs::path(out.def.file).parent_path().string();
  const std::string data_dir = find_data_dir();
  if (std::error_code ec; !fs::is_regular_file(fs::path(data_dir) / "lua/luvsup/dsl.lua", ec)) {
    return LoadError{"luvsup's Lua library (lua/luvsup/dsl.lua) is not in " + data_dir +
                     "; install luvsup or set LUVSUP_DATA_DIR"};
  }
  try {
    out.def.lua = std::make_shared<LuaState>();
  } catch (const std::exception& e) {
    return LoadError{path + ": cannot create a Lua state: " + e.what()};
  }
  LuaState& state = *out.def.lua;
  std::string default_path;
  auto error = state.run([&](lua_State* L) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");  // stack: package, path
    default_path = lua_tostring(L, -1);
  });
  const std::string lua_path = package_path(out.def.dir, data_dir, default_path);
  if (!error) {
    error = state.run(
        [&](lua_State* L) {
          lua_getglobal(L, "package");
          lua_pushstring(L, lua_path.c_str());
          lua_setfield(L, -2, "path");  // stack: package
          lua_pop(L, 1);
          run_dsl(L, path, data_dir, out);
        },
        k_load_budget);
  }
  // Adopt every reference made, so that none leaks whatever happened.
  std::vector<std::pair<LuaRef, LuaRef>> refs;
  refs.reserve(out.refs.size());
  for (const Refs& r : out.refs) {
    refs.emplace_back(LuaRef(state, r.decide), LuaRef(state, r.policy));
  }
  if (error) {
    return LoadError{*error};
  }
  if (!out.error.empty()) {
    return LoadError{out.error};
  }
  for (size_t i = 0; i < out.def.services.size(); ++i) {
    core::ServiceSpec& spec = out.def.services[i];
    spec.restart = std::make_shared<LuaRestartPolicy>(out.def.lua, std::move(refs[i].first),
                                                      std::move(refs[i].second), spec.name);
  }
  return std::move(out.def);
}

}  // namespace luvsup::lua
