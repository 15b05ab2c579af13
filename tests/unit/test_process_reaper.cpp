#include "process/process_table.hpp"
#include "process/reaper.hpp"
#include "test_process_support.hpp"

#include <uv.h>

#include <map>

using namespace luvsup;
using namespace luvsup::process;
using namespace luvsup::process::test;

namespace {

// Runs `loop` until `done` or the deadline, without blocking on it forever.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done, double seconds = 5.0) {
  return wait_until(
      [&] {
        uv_run(loop, UV_RUN_NOWAIT);
        return done();
      },
      seconds);
}

}  // namespace

TEST_CASE("the reaper reaps a direct child and an adopted orphan, and leaves libuv's children to libuv") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  std::map<pid_t, core::ExitStatus> exits;
  {
    Reaper reaper(&loop, [&](pid_t pid, core::ExitStatus status) { exits[pid] = status; });
    REQUIRE(reaper.subreaper());

    // A child libuv spawned and owns: its exit must reach libuv, not us.
    int64_t uv_exit = -1;
    uv_process_t uv_child{};
    uv_child.data = &uv_exit;
    const char* uv_args[] = {"/bin/sh", "-c", "exit 3", nullptr};
    uv_process_options_t options{};
    options.file = uv_args[0];
    options.args = const_cast<char**>(uv_args);
    options.exit_cb = [](uv_process_t* p, int64_t status, int) {
      *static_cast<int64_t*>(p->data) = status;
      uv_close(reinterpret_cast<uv_handle_t*>(p), nullptr);
    };
    REQUIRE(uv_spawn(&loop, &uv_child, &options) == 0);
    pid_t uv_pid = uv_child.pid;

    TempDir dir;
    Launched daemon = start(make_spec({helper("double_fork"), dir / "pid"}));
    close(daemon.out_fd);
    CHECK(run_until(&loop, [&] { return exits.contains(daemon.pid); }));
    CHECK(exits[daemon.pid].code == 0);
    pid_t orphan = read_pid_file(dir / "pid");
    REQUIRE(orphan > 0);
    // Adopted: the middle process exited, so the daemon is now our child.
    CHECK(wait_until([&] {
      auto children = own_children();
      return std::find(children.begin(), children.end(), orphan) != children.end();
    }));
    kill(orphan, SIGKILL);
    CHECK(run_until(&loop, [&] { return exits.contains(orphan); }));
    CHECK(exits[orphan].signal == SIGKILL);
    CHECK(exits[orphan].code == -1);

    CHECK(run_until(&loop, [&] { return uv_exit != -1; }));
    CHECK(uv_exit == 3);
    CHECK_FALSE(exits.contains(uv_pid));
  }
  uv_run(&loop, UV_RUN_NOWAIT);  // let the reaper's signal handle close
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("reap_now reports children that exited before it was called") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    std::map<pid_t, core::ExitStatus> exits;
    Reaper reaper(&loop, [&](pid_t pid, core::ExitStatus status) { exits[pid] = status; });
    Launched child = start(make_spec({"/bin/sh", "-c", "exit 7"}));
    read_all(child.out_fd);  // EOF: it is exiting
    CHECK(wait_until([&] {
      reaper.reap_now();
      return exits.contains(child.pid);
    }));
    CHECK(exits[child.pid].code == 7);
    CHECK(exits[child.pid].signal == 0);
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("wait statuses decode into exit codes and signals") {
  CHECK(exit_status_from_wait(0x0100).code == 1);
  auto killed = exit_status_from_wait(SIGKILL);
  CHECK(killed.code == -1);
  CHECK(killed.signal == SIGKILL);
  CHECK(exit_status_from_wait(SIGSEGV | 0x80).core_dumped);
}
