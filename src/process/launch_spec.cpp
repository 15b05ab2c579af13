#include "process/launch_spec.hpp"

#include "process/child_env.hpp"
#include "process/command_path.hpp"
#include "process/credentials.hpp"

#include <unistd.h>

#include <cstring>

namespace luvsup::process {

namespace {

const char* errno_name(int err) {
  const char* name = strerrorname_np(err);  // glibc 2.32+
  return name != nullptr ? name : "?";
}

std::vector<core::ResourceLimit> merge_limits(const std::vector<core::ResourceLimit>& base,
                                              const std::vector<core::ResourceLimit>& own) {
  std::vector<core::ResourceLimit> out = base;
  for (const auto& limit : own) {
    bool replaced = false;
    for (auto& existing : out) {
      if (existing.resource == limit.resource) {
        existing = limit;
        replaced = true;
      }
    }
    if (!replaced) {
      out.push_back(limit);
    }
  }
  return out;
}

}  // namespace

std::string LaunchError::message() const {
  if (err == 0) {
    return what;
  }
  return what + ": " + std::strerror(err) + " (" + errno_name(err) + ")";
}

std::variant<LaunchSpec, LaunchError> prepare_launch(const core::ServiceSpec& spec,
                                                     const ChildContext& ctx) {
  if (spec.argv.empty()) {
    return LaunchError{0, "service " + spec.name + " has no command"};
  }
  LaunchSpec out;
  out.argv = spec.argv;
  out.cwd = spec.cwd;
  out.umask = spec.umask;
  out.limits = merge_limits(ctx.base_limits, spec.limits);
  out.stdin_path = spec.stdin_path.empty() ? "/dev/null" : spec.stdin_path;

  EnvList env = EnvList::inherited();
  // User and group switching needs privilege; an unprivileged luvsup runs
  // every service as itself.
  if (geteuid() == 0) {
    if (!spec.user.empty()) {
      auto creds = resolve_credentials(spec.user, spec.group);
      if (auto* error = std::get_if<LaunchError>(&creds)) {
        return *error;
      }
      auto& c = std::get<Credentials>(creds);
      out.uid = c.uid;
      out.gid = c.gid;
      out.groups = std::move(c.groups);
      if (!c.home.empty()) {
        env.set("HOME", c.home);
      }
      env.set("USER", c.name);
      env.set("LOGNAME", c.name);
    } else if (!spec.group.empty()) {
      auto gid = resolve_group(spec.group);
      if (auto* error = std::get_if<LaunchError>(&gid)) {
        return *error;
      }
      out.gid = std::get<gid_t>(gid);
    }
  }
  for (const auto& [key, value] : spec.env) {
    env.set(key, value);
  }
  for (const auto& [key, value] : ctx.supervisor_env) {
    env.set(key, value);
  }
  // Last, so that the tag always tells which service a process belongs to.
  env.set(k_service_tag_var, ctx.tag);

  auto path = find_command(spec.argv.front(), search_path_of(env), spec.cwd);
  if (auto* error = std::get_if<LaunchError>(&path)) {
    return *error;
  }
  out.path = std::move(std::get<std::string>(path));
  out.env = env.take();
  return out;
}

}  // namespace luvsup::process
