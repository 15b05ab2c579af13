#include "process/credentials.hpp"
#include "test_process_support.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <sstream>

using namespace luvsup;
using namespace luvsup::process;
using namespace luvsup::process::test;

namespace {

std::vector<gid_t> expected_groups(const char* user, gid_t gid) {
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  REQUIRE(getgrouplist(user, gid, groups.data(), &n) >= 0);
  groups.resize(static_cast<size_t>(n));
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  return groups;
}

std::vector<gid_t> parse_groups(const std::string& text) {
  std::istringstream in(text);
  std::vector<gid_t> out;
  gid_t g;
  while (in >> g) {
    out.push_back(g);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("as root, a service runs as its user with that user's groups and home") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root");
    return;
  }
  passwd* nobody = getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  auto spec = make_spec({"/bin/sh", "-c", "id -u; id -g; id -G; echo $HOME $USER $LOGNAME"});
  spec.user = "nobody";
  spec.cwd = "/tmp";
  std::istringstream out(output_of(spec));
  std::string uid, gid, groups, names;
  std::getline(out, uid);
  std::getline(out, gid);
  std::getline(out, groups);
  std::getline(out, names);
  CHECK(uid == std::to_string(nobody->pw_uid));
  CHECK(gid == std::to_string(nobody->pw_gid));
  CHECK(parse_groups(groups) == expected_groups("nobody", nobody->pw_gid));
  CHECK(names == std::string(nobody->pw_dir) + " nobody nobody");
}

TEST_CASE("as root, a group given with the user replaces the primary group") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root");
    return;
  }
  group* daemon_group = getgrnam("daemon");
  REQUIRE(daemon_group != nullptr);
  auto spec = make_spec({"/bin/sh", "-c", "id -g; id -G"});
  spec.user = "nobody";
  spec.group = "daemon";
  std::istringstream out(output_of(spec));
  std::string gid, groups;
  std::getline(out, gid);
  std::getline(out, groups);
  CHECK(gid == std::to_string(daemon_group->gr_gid));
  CHECK(parse_groups(groups) == expected_groups("nobody", daemon_group->gr_gid));
}

TEST_CASE("the resolved credentials follow getgrouplist") {
  auto creds = resolve_credentials("root", "");
  REQUIRE(std::holds_alternative<Credentials>(creds));
  auto& c = std::get<Credentials>(creds);
  CHECK(c.uid == 0);
  CHECK(c.gid == 0);
  CHECK(c.home == "/root");
  auto groups = c.groups;
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  CHECK(groups == expected_groups("root", 0));
}

TEST_CASE("numeric users and groups without an entry are accepted") {
  auto creds = resolve_credentials("54321", "54322");
  REQUIRE(std::holds_alternative<Credentials>(creds));
  CHECK(std::get<Credentials>(creds).uid == 54321);
  CHECK(std::get<Credentials>(creds).gid == 54322);
  CHECK(std::get<Credentials>(creds).groups == std::vector<gid_t>{54322});
}

TEST_CASE("an unknown user or group is reported by name") {
  auto creds = resolve_credentials("luvsup-no-such-user", "");
  REQUIRE(std::holds_alternative<LaunchError>(creds));
  CHECK(std::get<LaunchError>(creds).message() == "user \"luvsup-no-such-user\": no such user");
  creds = resolve_credentials("nobody", "luvsup-no-such-group");
  REQUIRE(std::holds_alternative<LaunchError>(creds));
  CHECK(std::get<LaunchError>(creds).message() == "group \"luvsup-no-such-group\": no such group");
  if (geteuid() == 0) {
    auto spec = make_spec({"true"});
    spec.user = "luvsup-no-such-user";
    auto prepared = prepare_launch(spec, ChildContext{});
    REQUIRE(std::holds_alternative<LaunchError>(prepared));
  }
}

TEST_CASE("as root, a working directory the user cannot enter is reported as a chdir error") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root");
    return;
  }
  TempDir dir;
  chmod(dir.path.c_str(), 0700);  // root's; nobody may not enter
  auto spec = make_spec({"true"});
  spec.user = "nobody";
  spec.cwd = dir.path;
  auto launched = launch(std::get<LaunchSpec>(prepare_launch(spec, ChildContext{})), false);
  REQUIRE(std::holds_alternative<LaunchError>(launched));
  CHECK(std::get<LaunchError>(launched).what == "chdir " + dir.path);
  CHECK(std::get<LaunchError>(launched).err == EACCES);
}
