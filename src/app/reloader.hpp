// Reloading the running stack from its files: load, validate, plan, apply.
//
// One Reloader serves every trigger: the file watcher (StackWatcher), SIGHUP
// without a terminal, and the control plane's `luvsup reload`. A reload
// loads the stack into a fresh Lua state (lua::load_stack through
// load_and_order, so it accepts exactly what `run` accepts), computes the
// plan against the running definitions (core::plan_reload) and applies it
// (core::Supervisor::apply_reload). A stack that fails to load changes
// nothing: the running stack keeps going, the error is logged and kept in
// last() for the status.
#pragma once

#include "app/reload_hook.hpp"
#include "core/last_reload.hpp"
#include "core/platform.hpp"
#include "core/supervisor.hpp"
#include "lua/stack_loader.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::app {

enum class ReloadStatus {
  applied,       // the plan was carried out (possibly "no changes")
  files_same,    // every loaded file has the content of the last applied load: not loaded
  failed,        // the stack did not load or validate; nothing changed
  ignored,       // the stack is shutting down
};

struct ReloadOutcome {
  ReloadStatus status = ReloadStatus::ignored;
  std::string message;  // the log line: "reload: +web ..." or the load error
};

using core::LastReload;

class Reloader {
public:
  // `stack_file` is the path as the user gave it (errors name it that way);
  // `loaded` is the definition the supervisor runs (its files are hashed now;
  // its Lua state is not kept: the supervisor's specs hold it).
  // Hooks of the stacks it loads reach the supervisor through `environment`.
  Reloader(core::Supervisor& supervisor, core::Platform& platform, std::string stack_file,
           const lua::StackDefinition& loaded, runbook::Environment& environment);

  // Reloads now, whatever the files hold: SIGHUP and `luvsup reload`.
  ReloadOutcome reload(std::string_view trigger);

  // Reloads unless every loaded file still has the content last applied (the
  // watcher: editors touch files without changing them). When the stack
  // fails to load and `last_try` is false, nothing is logged or recorded: the
  // caller retries once after a quiet period (a file may be half-written).
  ReloadOutcome reload_if_changed(std::string_view trigger, bool last_try);

  // What reloading to `file` (empty: the running stack's file) would do, as
  // the line a reload would log ("plan: +web ~api (cmd changed: would
  // restart)"), without applying anything; failed with the load error.
  ReloadOutcome plan(const std::string& file);

  // The files the running stack was loaded from: the stack file, the Lua
  // modules it required from its directory or luvsup's, and its env files.
  [[nodiscard]] const std::vector<std::string>& files() const { return m_files; }
  [[nodiscard]] const LastReload& last() const { return m_last; }

private:
  using Hashes = std::map<std::string, uint64_t>;
  ReloadOutcome load_and_apply(std::string_view trigger, bool log_failure, const Hashes& before);
  static Hashes hash_files(const std::vector<std::string>& files);

  core::Supervisor& m_supervisor;
  core::Platform& m_platform;
  runbook::Environment& m_environment;
  std::string m_stack_file;
  std::string m_stack_path;  // the stack file's real path
  std::string m_state_dir;
  std::string m_control_socket;  // stack{ control = } at start; a change needs a restart of luvsup
  std::string m_name;
  std::vector<std::string> m_files;
  Hashes m_hashes;  // of m_files, as last applied
  LastReload m_last;
  ReloadHook m_on_reload;
};

}  // namespace luvsup::app
