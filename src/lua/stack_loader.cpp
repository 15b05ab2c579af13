#include "lua/stack_loader.hpp"

#include "core/content_hash.hpp"
#include "lua/data_dir.hpp"
#include "lua/lua_ref.hpp"
#include "lua/health_reader.hpp"
#include "lua/lua_health_policy.hpp"
#include "lua/lua_restart_policy.hpp"
#include "lua/lua_script_probe.hpp"
#include "lua/lua_service_hooks.hpp"
#include "runbook/helpers_api.hpp"
#include "runbook/runtime_api.hpp"
#include "lua/table_read.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <unordered_map>
#include <utility>

namespace luvsup::lua {

namespace {

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
    spec.depends_on.back().restart = read_bool(L, "restart", false);
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
  read_readiness(L, spec);
  if (lua_getfield(L, -1, "health") == LUA_TTABLE) {  // stack: svc, health
    spec.health.emplace();
    read_health(L, *spec.health);
  }
  lua_pop(L, 1);
}

struct Refs {
  int decide = LUA_NOREF;
  int policy = LUA_NOREF;
  int judge = LUA_NOREF;         // health.judge, when the service has a health check
  int health = LUA_NOREF;        // its normalised health table
  std::array<int, core::k_hook_kinds> hooks;  // by HookKind (LUA_REFNIL: none)

  Refs() { hooks.fill(LUA_NOREF); }
};

// The parts of a load that outlive the protected body.
struct LoadOutput {
  StackDefinition def;
  std::vector<Refs> refs;
  TaskReadout tasks;
  int on_reload = LUA_NOREF;
  std::string error;  // the DSL's validation message, when it returned one
  // The fingerprints of the tables and functions met so far, by address: the
  // services that share the library's policy are fingerprinted once. Every
  // value stays alive (the DSL's result holds it) until the load is read.
  std::unordered_map<const void*, uint64_t> fingerprints;
};

// hash(s) for lua/luvsup/fingerprint.lua: 16 hex digits of content_hash(s).
int hash_string(lua_State* L) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(core::content_hash(std::string_view(s, len))));
  lua_pushlstring(L, hex, 16);
  return 1;
}

// stack: fingerprint, value -> fingerprint, value; hashes fingerprint(value).
// nil, which most hooks of most services are, is hashed without calling into
// Lua (fingerprint(nil) is always "nnil"), and a table or function met before
// is found in `memo`.
uint64_t value_fingerprint(lua_State* L, std::unordered_map<const void*, uint64_t>& memo) {
  static const uint64_t k_nil = core::content_hash(std::string_view("nnil"));
  const int type = lua_type(L, -1);
  if (type == LUA_TNIL) {
    return k_nil;
  }
  const void* address = type == LUA_TTABLE || type == LUA_TFUNCTION ? lua_topointer(L, -1) : nullptr;
  if (address != nullptr) {
    if (const auto known = memo.find(address); known != memo.end()) {
      return known->second;
    }
  }
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);  // stack: fingerprint, value, fingerprint, value
  lua_pushcfunction(L, hash_string);
  lua_call(L, 2, 1);
  size_t len = 0;
  const char* s = lua_tolstring(L, -1, &len);
  const uint64_t h = s != nullptr ? core::content_hash(std::string_view(s, len)) : 0;
  lua_pop(L, 1);
  if (address != nullptr) {
    memo.emplace(address, h);
  }
  return h;
}

// The service keys of the hooks, by HookKind.
const std::array<std::string, core::k_hook_kinds>& hook_keys() {
  static const std::array<std::string, core::k_hook_kinds> k_keys = [] {
    std::array<std::string, core::k_hook_kinds> keys;
    for (size_t k = 0; k < keys.size(); ++k) {
      keys[k] = std::string(core::to_string(static_cast<core::HookKind>(k)));
    }
    return keys;
  }();
  return k_keys;
}

// stack: (empty) -> (empty). Runs dsl.load and reads its result into out.
void run_dsl(lua_State* L, const std::string& given, const std::string& data_dir, LoadOutput& out) {
  luaL_checkstack(L, 10, "stack loader");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luvsup.backoff");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "decide");  // stack: backoff, decide
  const int decide = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luvsup.health");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "judge");  // stack: backoff, decide, health, judge
  const int judge = lua_gettop(L);
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
  lua_call(L, 1, 2);  // stack: backoff, decide, health, judge, dsl, result, err
  if (lua_isnil(L, -2)) {
    const char* msg = lua_tostring(L, -1);
    out.error = msg != nullptr ? msg : "stack loader: the DSL failed without a message";
    return;
  }
  lua_pop(L, 1);  // stack: backoff, decide, health, judge, dsl, result
  read_string(L, "name", out.def.name);
  read_string(L, "log_dir", out.def.log_dir);
  read_string(L, "state_dir", out.def.state_dir);
  read_string(L, "control", out.def.control_socket);
  read_string_list(L, "loaded_files", out.def.loaded_files);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luvsup.fingerprint");
  lua_call(L, 1, 1);  // stack: backoff, decide, health, judge, dsl, result, fingerprint
  lua_insert(L, -2);  // stack: backoff, decide, health, judge, dsl, fingerprint, result
  const int fingerprint = lua_gettop(L) - 1;
  for_each_in(L, "services", [&] {  // stack: ..., result, services, svc
    out.def.services.emplace_back();
    read_service(L, out.def.services.back());
    core::ServiceSpec& loaded = out.def.services.back();
    out.refs.emplace_back();
    Refs& refs = out.refs.back();
    lua_pushvalue(L, decide);  // stack: ..., svc, decide
    refs.decide = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, fingerprint);  // stack: ..., svc, fingerprint
    lua_getfield(L, -2, "restart");  // stack: ..., svc, fingerprint, policy
    loaded.restart_fingerprint = value_fingerprint(L, out.fingerprints);
    refs.policy = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -2, "health");  // stack: ..., svc, fingerprint, health
    loaded.health_fingerprint = value_fingerprint(L, out.fingerprints);
    if (loaded.health) {
      refs.health = luaL_ref(L, LUA_REGISTRYINDEX);
      lua_pushvalue(L, judge);  // stack: ..., svc, fingerprint, judge
      refs.judge = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
      lua_pop(L, 1);
    }
    lua_getfield(L, -2, "on_unhealthy");  // stack: ..., svc, fingerprint, on_unhealthy
    loaded.on_unhealthy_fingerprint = value_fingerprint(L, out.fingerprints);
    lua_pop(L, 1);
    const auto& keys = hook_keys();
    for (size_t k = 0; k < keys.size(); ++k) {
      lua_getfield(L, -2, keys[k].c_str());  // stack: ..., svc, fingerprint, hook
      loaded.hook_fingerprints[k] = value_fingerprint(L, out.fingerprints);
      refs.hooks[k] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_pop(L, 1);  // stack: ..., svc
    loaded.hook_timeout = read_number(L, "hook_timeout", loaded.hook_timeout);
  });
  read_tasks(L, -1, out.tasks);
  lua_getfield(L, -1, "on_reload");  // stack: ..., result, on_reload
  out.on_reload = luaL_ref(L, LUA_REGISTRYINDEX);
}

// Adopts the registry references of the Lua function leaves of `probe`.
struct ScriptLeaf {
  core::ProbeSpec* probe;
  LuaRef function;
  std::string service;
};

void adopt_script_probes(LuaState& state, const std::string& service, core::ProbeSpec& probe,
                         std::vector<ScriptLeaf>& out) {
  if (probe.kind == core::ProbeSpec::Kind::lua) {
    out.push_back({&probe, LuaRef(state, probe.lua_ref), service});
    probe.lua_ref = LUA_NOREF;
  }
  for (core::ProbeSpec& child : probe.children) {
    adopt_script_probes(state, service, child, out);
  }
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

std::variant<StackDefinition, LoadError> load_stack(const std::string& path,
                                                    runbook::Environment* environment) {
  static runbook::Environment k_nothing;  // `luvsup check`: hooks never run
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
          runbook::open_runtime(L);
          runbook::open_helpers(L);
          run_dsl(L, path, data_dir, out);
        },
        k_load_budget);
  }
  // Adopt every reference made, so that none leaks whatever happened.
  struct Owned {
    LuaRef decide, policy, judge, health;
    LuaServiceHooks::Functions hooks;
  };
  std::vector<Owned> refs;
  refs.reserve(out.refs.size());
  for (const Refs& r : out.refs) {
    refs.push_back({LuaRef(state, r.decide), LuaRef(state, r.policy), LuaRef(state, r.judge),
                    LuaRef(state, r.health), {}});
    for (size_t k = 0; k < r.hooks.size(); ++k) {
      refs.back().hooks[k] = LuaRef(state, r.hooks[k]);
    }
  }
  out.def.tasks = adopt_tasks(out.def.lua, out.tasks);
  out.def.watches = std::move(out.tasks.watches);
  mark_services(out.def.services, out.def.tasks, out.def.watches);
  out.def.on_reload = LuaRef(state, out.on_reload);
  std::vector<ScriptLeaf> script_probes;  // Lua function probes
  for (core::ServiceSpec& spec : out.def.services) {
    if (spec.health) {
      adopt_script_probes(state, spec.name, spec.health->probe, script_probes);
      if (spec.health->fallback) {
        adopt_script_probes(state, spec.name, *spec.health->fallback, script_probes);
      }
    }
  }
  if (error) {
    return LoadError{*error};
  }
  if (!out.error.empty()) {
    return LoadError{out.error};
  }
  out.def.scheduler = std::make_shared<runbook::Scheduler>(state, environment != nullptr ? *environment : k_nothing);
  for (ScriptLeaf& leaf : script_probes) {
    leaf.probe->script = std::make_shared<LuaScriptProbe>(out.def.lua, out.def.scheduler,
                                                          std::move(leaf.function), leaf.service);
  }
  for (size_t i = 0; i < out.def.services.size(); ++i) {
    core::ServiceSpec& spec = out.def.services[i];
    const auto& functions = refs[i].hooks;
    if (std::any_of(functions.begin(), functions.end(), [](const LuaRef& f) { return f.valid(); })) {
      spec.hooks = std::make_shared<LuaServiceHooks>(out.def.lua, out.def.scheduler, std::move(refs[i].hooks),
                                                     spec.hook_timeout);
    }
    spec.restart = std::make_shared<LuaRestartPolicy>(out.def.lua, std::move(refs[i].decide),
                                                      std::move(refs[i].policy), spec.name);
    if (spec.health) {
      spec.health->policy = std::make_shared<LuaHealthPolicy>(out.def.lua, std::move(refs[i].judge),
                                                              std::move(refs[i].health), spec.name,
                                                              spec.health->interval);
    }
  }
  // What the DSL built to normalise the services is garbage now (a stack of
  // 500 services leaves about 1 MiB of it).
  state.collect_garbage();
  return std::move(out.def);
}

}  // namespace luvsup::lua
