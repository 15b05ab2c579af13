#include "app/reloader.hpp"

#include "app/stack_validation.hpp"
#include "core/content_hash.hpp"
#include "os/file_text.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace luvsup::app {

namespace {
// The hash of a file that cannot be read (deleted, or between a rename and
// its replacement).
constexpr uint64_t k_unreadable = 0;
}  // namespace

Reloader::Reloader(core::Supervisor& supervisor, core::Platform& platform, std::string stack_file,
                   const lua::StackDefinition& loaded, runbook::Environment& environment)
    : m_supervisor(supervisor), m_platform(platform), m_environment(environment), m_stack_file(std::move(stack_file)),
      m_stack_path(loaded.file), m_state_dir(loaded.state_dir), m_control_socket(loaded.control_socket), m_name(loaded.name),
      m_files(loaded.loaded_files), m_hashes(hash_files(m_files)) {}

Reloader::Hashes Reloader::hash_files(const std::vector<std::string>& files) {
  Hashes hashes;
  for (const auto& file : files) {
    const auto bytes = os::read_file(file);
    hashes[file] = bytes ? core::content_hash(*bytes) : k_unreadable;
  }
  return hashes;
}

ReloadOutcome Reloader::reload(std::string_view trigger) {
  return load_and_apply(trigger, true, hash_files(m_files));
}

ReloadOutcome Reloader::reload_if_changed(std::string_view trigger, bool last_try) {
  Hashes now = hash_files(m_files);
  if (now == m_hashes) {
    spdlog::debug("reload: no watched file changed its content");
    return {ReloadStatus::files_same, {}};
  }
  return load_and_apply(trigger, last_try, now);
}

ReloadOutcome Reloader::plan(const std::string& file) {
  auto checked = load_and_order(file.empty() ? m_stack_file : file, &m_environment);
  if (auto* error = std::get_if<std::string>(&checked)) {
    return {ReloadStatus::failed, *error};
  }
  const lua::StackDefinition& definition = std::get<OrderedStack>(checked).definition;
  if (definition.file != m_stack_path) {
    // A plan says what a reload would do, and a reload reads this stack's file.
    return {ReloadStatus::failed, fmt::format("this luvsup runs {}, not {}; plan that file against "
                                              "the luvsup that runs it",
                                              m_stack_path, definition.file)};
  }
  std::vector<const core::ServiceSpec*> next_view;
  for (const auto& spec : definition.services) {
    next_view.push_back(&spec);
  }
  const core::ReloadPlan plan = core::plan_reload(m_supervisor.specs(), next_view);
  return {ReloadStatus::applied, m_supervisor.preview_reload(plan)};
}

ReloadOutcome Reloader::load_and_apply(std::string_view trigger, bool log_failure,
                                       const Hashes& before) {
  if (m_supervisor.shutting_down()) {
    spdlog::info("reload ignored: the stack is stopping");
    return {ReloadStatus::ignored, "reload ignored: the stack is stopping"};
  }
  spdlog::debug("reload ({}): loading {}", trigger, m_stack_file);
  auto checked = load_and_order(m_stack_file, &m_environment);
  if (auto* error = std::get_if<std::string>(&checked)) {
    ReloadOutcome outcome{ReloadStatus::failed, *error};
    if (log_failure) {
      // The first line says what and where; a traceback follows it.
      const size_t eol = error->find('\n');
      spdlog::error("reload failed: {}; keeping the running stack{}", error->substr(0, eol),
                    eol == std::string::npos ? "" : error->substr(eol));
      m_last = {true, false, std::string(trigger), *error, m_platform.wall_now()};
    } else {
      spdlog::debug("reload: {}; trying again once the files are quiet", *error);
    }
    return outcome;
  }
  lua::StackDefinition& definition = std::get<OrderedStack>(checked).definition;
  if (definition.state_dir != m_state_dir) {
    spdlog::warn("reload: state_dir is now {}; it takes effect when luvsup starts again",
                 definition.state_dir);
  }
  if (definition.control_socket != m_control_socket) {
    spdlog::warn("reload: the control socket setting changed; it takes effect when luvsup "
                 "starts again");
  }
  if (definition.name != m_name) {
    spdlog::warn("reload: the stack's name is now '{}'; it takes effect when luvsup starts again",
                 definition.name);
  }
  std::vector<std::shared_ptr<const core::ServiceSpec>> next;
  std::vector<const core::ServiceSpec*> next_view;
  for (auto& spec : definition.services) {
    next.push_back(std::make_shared<const core::ServiceSpec>(std::move(spec)));
    next_view.push_back(next.back().get());
  }
  // From here on only the specs hold the new Lua state: when the plan is
  // empty, it goes with them.
  definition.services.clear();
  const core::ReloadPlan plan = core::plan_reload(m_supervisor.specs(), next_view);
  std::string line = m_supervisor.apply_reload(plan, std::move(next));
  spdlog::info("{}", line);
  if (m_on_applied) {
    m_on_applied(definition);
  }
  m_on_reload.start(definition, plan, trigger);
  definition.scheduler.reset();  // before the state it runs on
  definition.lua.reset();

  // Hash a file the new stack loaded for the first time now; the others as
  // they were before loading, so a save during the load still counts.
  m_files = std::move(definition.loaded_files);
  Hashes fresh = hash_files(m_files);
  for (auto& [file, hash] : fresh) {
    if (auto it = before.find(file); it != before.end()) {
      hash = it->second;
    }
  }
  m_hashes = std::move(fresh);
  m_last = {true, true, std::string(trigger), line, m_platform.wall_now()};
  return {ReloadStatus::applied, std::move(line)};
}

}  // namespace luvsup::app
