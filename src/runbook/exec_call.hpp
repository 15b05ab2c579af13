// exec: the Lua call that runs a command and waits for it (CommandRunner).
//
//   local r = exec { "pg_isready", "-h", "localhost", timeout = 5, cwd = "/srv",
//                    env = { PGPORT = "5433" }, stdin = "text" }
//   local r = exec "pg_dump app | gzip > /backup/app.gz"   -- run by /bin/sh -c
//
// Returns { code, signal, stdout, stderr, timed_out }, or nil and "exec:
// cannot run 'x': No such file or directory" when the command cannot start.
// Bad arguments raise, naming the key.
#pragma once

extern "C" {
#include <lua.h>
}

namespace luvsup::runbook {

int l_exec(lua_State* L);

} // namespace luvsup::runbook
