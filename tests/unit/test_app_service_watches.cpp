// app::ServiceWatches on a real loop and real files: a change to a watched
// file is reported once after the quiet period, other files are ignored, and
// a change while the handler is busy is reported again when it finishes.
#include "app/service_watches.hpp"

#include "test_lua_support.hpp"
#include "test_process_support.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

struct Loop {
  Loop() { REQUIRE(uv_loop_init(&loop) == 0); }
  ~Loop() {
    uv_run(&loop, UV_RUN_NOWAIT);  // close callbacks
    uv_loop_close(&loop);
  }
  bool run_until(const std::function<bool()>& done, double seconds = 10.0) {
    return luvsup::process::test::wait_until(
        [&] {
          uv_run(&loop, UV_RUN_NOWAIT);
          return done();
        },
        seconds);
  }
  uv_loop_t loop;
};

struct Report {
  std::string service;
  std::string path;
  std::function<void()> finished;
};

// Replaces `path` the way editors save: write a temporary file, rename it over.
void save(const luvsup::test::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string tmp = dir.write("." + name + ".swp", text);
  REQUIRE(std::rename(tmp.c_str(), (dir.path() + "/" + name).c_str()) == 0);
}

}  // namespace

TEST_CASE("a saved watched file is reported with its service, other files are not") {
  spdlog::set_level(spdlog::level::off);
  luvsup::test::TempDir dir;
  const std::string conf = dir.write("nginx.conf", "a");
  dir.write("other.conf", "a");
  std::vector<Report> reports;
  {
    Loop loop;
    luvsup::app::ServiceWatches watches(&loop.loop, [&](const std::string& s, const std::string& p,
                                                        std::function<void()> finished) {
      reports.push_back({s, p, std::move(finished)});
    });
    watches.watch({{"web", {conf}}});
    CHECK(watches.size() == 1);
    dir.write("other.conf", "b");
    save(dir, "nginx.conf", "b");
    REQUIRE(loop.run_until([&] { return !reports.empty(); }));
    CHECK(reports[0].service == "web");
    CHECK(reports[0].path == conf);
    reports[0].finished();
    // A second save is a second report; the unwatched file never shows up.
    dir.write("other.conf", "c");
    dir.write("nginx.conf", "c");
    REQUIRE(loop.run_until([&] { return reports.size() == 2; }));
    CHECK(reports[1].path == conf);
    reports[1].finished();
  }
  CHECK(reports.size() == 2);
}

TEST_CASE("a change while the handler is busy is reported again when it finishes") {
  spdlog::set_level(spdlog::level::off);
  luvsup::test::TempDir dir;
  const std::string conf = dir.write("app.conf", "a");
  std::vector<Report> reports;
  Loop loop;
  luvsup::app::ServiceWatches watches(
      &loop.loop,
      [&](const std::string& s, const std::string& p, std::function<void()> finished) {
        reports.push_back({s, p, std::move(finished)});
      },
      0.05);
  watches.watch({{"api", {conf}}, {"worker", {conf}}});
  dir.write("app.conf", "b");
  REQUIRE(loop.run_until([&] { return reports.size() == 2; }));  // one per service
  dir.write("app.conf", "c");  // both handlers still busy
  // Nothing more is reported until a handler finishes: finish api's and see its report.
  reports[0].finished();
  REQUIRE(loop.run_until([&] { return reports.size() == 3; }));
  CHECK(reports[2].service == "api");
  reports[1].finished();
  REQUIRE(loop.run_until([&] { return reports.size() == 4; }));
  CHECK(reports[3].service == "worker");
}

TEST_CASE("a pair no longer watched ignores its late finish and reports nothing more") {
  spdlog::set_level(spdlog::level::off);
  luvsup::test::TempDir dir;
  const std::string conf = dir.write("a.conf", "a");
  std::vector<Report> reports;
  Loop loop;
  luvsup::app::ServiceWatches watches(
      &loop.loop,
      [&](const std::string& s, const std::string& p, std::function<void()> finished) {
        reports.push_back({s, p, std::move(finished)});
      },
      0.05);
  watches.watch({{"web", {conf}}});
  dir.write("a.conf", "b");
  REQUIRE(loop.run_until([&] { return reports.size() == 1; }));
  watches.watch({});
  CHECK(watches.size() == 0);
  reports[0].finished();  // ignored: nothing is touched
  const std::string later = dir.write("b.conf", "x");
  watches.watch({{"web", {later}}});
  dir.write("a.conf", "c");
  dir.write("b.conf", "y");
  REQUIRE(loop.run_until([&] { return reports.size() == 2; }));
  CHECK(reports[1].path == later);
}
