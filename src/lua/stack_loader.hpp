// Loads a stack file into validated service specs.
//
// A fresh LuaState runs the stack file through the DSL (lua/luvsup/dsl.lua),
// which validates and normalises every service; this loader copies the result
// into core::ServiceSpec values, maps signal and limit names to numbers and
// wraps each restart policy in a LuaRestartPolicy. Loading is all or nothing:
// any mistake yields a LoadError and no definition.
#pragma once

#include "core/service_spec.hpp"
#include "lua/lua_ref.hpp"
#include "lua/lua_state.hpp"
#include "runbook/environment.hpp"
#include "runbook/scheduler.hpp"

#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace luvsup::lua {

struct StackDefinition {
  std::string name;       // stack{ name = } or the file's base name without ".lua"
  std::string file;       // absolute real path of the stack file
  std::string dir;        // its directory
  std::string log_dir;    // absolute
  std::string state_dir;  // absolute
  std::string control_socket;  // stack{ control = }, absolute; empty = <state_dir>/control.sock
  std::vector<core::ServiceSpec> services;  // declaration order, validated, restart policy set
  // The stack file, every Lua module it required from its own directory or
  // luvsup's data directory, and every env_file: what a reload watcher watches.
  std::vector<std::string> loaded_files;
  std::shared_ptr<LuaState> lua;  // keeps the state alive while specs reference it
  // Runs the state's hooks and tasks; declared after `lua`, so it goes first.
  std::shared_ptr<runbook::Scheduler> scheduler;
  LuaRef on_reload;  // stack { on_reload = function(plan) }, or invalid
};

struct LoadError {
  // "stack.lua:12: service 'web': unknown key 'comand'; did you mean 'cmd'?",
  // with the file named as the caller gave it.
  std::string message;
};

// Loads and validates the stack file at `path`. Hooks and tasks of the
// stack reach the supervisor through `environment` (null: nothing, as for
// `luvsup check`). Never throws.
std::variant<StackDefinition, LoadError> load_stack(const std::string& path,
                                                    runbook::Environment* environment = nullptr);

// The signal number of a name without "SIG" ("TERM"), or 0 when unknown.
int signal_number(const std::string& name);

// The RLIMIT_* resource of a limit name ("nofile"), or -1 when unknown.
int limit_resource(const std::string& name);

}  // namespace luvsup::lua
