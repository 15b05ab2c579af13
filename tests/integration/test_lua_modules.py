"""A Lua C module a stack requires binds to the Lua inside luvsup (which
links Lua statically and exports its API for such modules)."""
import subprocess

from harness import check

MODULE_C = r'''
#include <lua.h>
#include <lauxlib.h>

static int hello(lua_State* L) {
  lua_pushfstring(L, "hello from %s", luaL_checkstring(L, 1));
  return 1;
}

int luaopen_greet(lua_State* L) {
  luaL_Reg functions[] = {{"hello", hello}, {NULL, NULL}};
  luaL_newlib(L, functions);
  return 1;
}
'''


def test_a_c_module_not_linked_against_lua_loads_and_runs(t):
    t.write("greet.c", MODULE_C)
    cflags = subprocess.run(["pkg-config", "--cflags", "lua5.4"], capture_output=True, text=True,
                            check=True).stdout.split()
    # As luarocks builds modules: no -llua, the Lua API comes from the host program.
    build = subprocess.run(["cc", "-shared", "-fPIC", *cflags, "-o", t.file("greet.so"), t.file("greet.c")],
                           capture_output=True, text=True)
    check(build.returncode == 0, build.stderr)
    t.stack(f'''
package.cpath = "{t.path}/?.so"
local greet = require "greet"
service "greeter" {{ cmd = {{ "echo", greet.hello("C") }}, oneshot = true }}
''')
    code, out, err = t.check()
    check(code == 0, out + err)
    run = t.run()
    run.wait_log(r"greeter: completed")
    check(b"hello from C" in t.service_log("greeter"), t.service_log("greeter"))
    check(run.stop() == 0, "clean shutdown")
