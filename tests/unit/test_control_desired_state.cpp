#include "control/desired_state.hpp"
#include "control/socket_path.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace luvsup::control;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/luvsup-unit-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

} // namespace

TEST_CASE("the stopped services survive a save and a load") {
  TempDir dir;
  DesiredState state(dir.path);
  state.set_stopped("web", true);
  state.set_stopped("db", true);
  state.set_stopped("db", false);
  REQUIRE_FALSE(state.save().has_value());
  DesiredState again(dir.path);
  REQUIRE_FALSE(again.load().has_value());
  CHECK(again.stopped() == std::set<std::string>{"web"});
  CHECK_FALSE(std::filesystem::exists(dir.path + "/desired.json.tmp"));
}

TEST_CASE("a missing desired-state file is an empty set, a corrupt one a warning") {
  TempDir dir;
  DesiredState state(dir.path);
  CHECK_FALSE(state.load().has_value());
  CHECK(state.stopped().empty());
  std::ofstream(dir.path + "/desired.json") << "{\"stopped\": 12";
  auto error = state.load();
  REQUIRE(error.has_value());
  CHECK(error->find("is not a desired-state file") != std::string::npos);
  CHECK(state.stopped().empty());
}

TEST_CASE("saving into a missing directory says why") {
  DesiredState state("/nonexistent/luvsup");
  state.set_stopped("web", true);
  auto error = state.save();
  REQUIRE(error.has_value());
  CHECK(error->find("cannot write /nonexistent/luvsup/desired.json.tmp") == 0);
}

TEST_CASE("the default socket is control.sock in the state directory") {
  CHECK(socket_path_for("/srv/app/stack.lua", "/srv/app/.luvsup", "") ==
        "/srv/app/.luvsup/control.sock");
  CHECK(socket_path_for("/srv/app/stack.lua", "/srv/app/.luvsup", "/run/app.sock") ==
        "/run/app.sock");
}

TEST_CASE("a socket path over 107 bytes falls back to a short one keyed by the stack") {
  const std::string deep = "/srv/" + std::string(120, 'd');
  const std::string a = socket_path_for("/srv/a/stack.lua", deep + "/.luvsup", "");
  const std::string b = socket_path_for("/srv/b/stack.lua", deep + "/.luvsup", "");
  CHECK(a.size() <= k_max_socket_path);
  CHECK(a.starts_with("/tmp/luvsup-" + std::to_string(::getuid()) + "/"));
  CHECK(a.ends_with(".sock"));
  CHECK(a != b);
  CHECK(socket_path_for("/srv/a/stack.lua", deep, std::string(108, 'x')).size() <=
        k_max_socket_path);
  const std::string exact(107, 'x');
  CHECK(socket_path_for("/srv/a/stack.lua", "/x", exact) == exact);
}

TEST_CASE("the socket directory is created private and tightened when it exists") {
  TempDir dir;
  const std::string sock = dir.path + "/sub/control.sock";
  REQUIRE_FALSE(prepare_socket_dir(sock).has_value());
  struct stat st {};
  REQUIRE(::stat((dir.path + "/sub").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  ::chmod((dir.path + "/sub").c_str(), 0755);
  REQUIRE_FALSE(prepare_socket_dir(sock).has_value());
  REQUIRE(::stat((dir.path + "/sub").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("a socket directory owned by someone else is refused") {
  TempDir dir;
  if (::geteuid() != 0) {
    return; // only root can hand a directory to another uid
  }
  const std::string sub = dir.path + "/theirs";
  std::filesystem::create_directory(sub);
  REQUIRE(::chown(sub.c_str(), 65534, 65534) == 0);
  auto error = prepare_socket_dir(sub + "/control.sock");
  REQUIRE(error.has_value());
  CHECK(error->find("is not a directory owned by uid") != std::string::npos);
}
