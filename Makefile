# luvsup — build, test, install.
#
#   make               build build/luvsup (installs missing Debian packages first)
#   make LTO=0         the same without link-time optimisation (links faster)
#   make STATIC=0      link Lua, libuv, spdlog, fmt and libstdc++ as shared libraries
#   make test          unit + integration tests; ends with "N passed, N failed"
#   make check-asan    the same tests against an ASan + UBSan build
#   make demo          run the demo stack in examples/
#   make install PREFIX=/usr/local
#   make lint          mandoc -Tlint on the man pages
#   make bench         luvsup side by side with supervisord, PM2, runit and s6 (ARGS=--quick)
#   make fuzz          build build-fuzz/fuzz_control_request (clang, libFuzzer)
#   make fuzz-run      run it on tests/fuzz/control_request for FUZZ_SECONDS

PREFIX    ?= /usr/local
BUILD     ?= build
WERROR    ?= 0
SANITIZE  ?= 0
CXX       ?= g++
PKGS      := lua5.4 libuv spdlog fmt

# Debian packages the build and the tests need; installed by `make deps` and
# `make test-deps` only when pkg-config, the headers or the commands say they
# are missing. TEST_SERVER_DEBS are the servers of the recipe tests
# (tests/integration/test_recipes_servers.py; sqlite3 for the SQLite
# maintenance tasks): they use their own ports and
# directories, so system instances the packages may start do not matter, and
# a server that cannot be installed skips its tests instead of failing.
BUILD_DEBS := pkg-config g++ make liblua5.4-dev libuv1-dev libspdlog-dev libfmt-dev doctest-dev \
              nlohmann-json3-dev libcurl4-openssl-dev libhttp-parser-dev
TEST_DEBS  := python3 mandoc procps
TEST_SERVER_DEBS := redis-server nginx postgresql uvicorn gunicorn sqlite3

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Linked statically (`make STATIC=0` links the shared libraries): libstdc++,
# libgcc, Lua and libuv from their archives, spdlog and fmt compiled in from
# their headers (src/app/logging_library.cpp); only glibc stays shared. The kernel maps in a shared
# library's code nearly whole (fault-around) when no other process uses it, so
# linking the 3.5 MB of libstdc++, spdlog, fmt, Lua and libuv cost 2 MiB of
# idle PSS; static, with unused sections dropped, luvsup carries only what it
# calls. It also starts 1 ms sooner (no symbol lookups). It carries their
# code, so a security update of one of them needs a rebuild. Lua's API stays
# exported, so that C modules a stack requires (package.cpath) bind to the
# one Lua in luvsup.
STATIC ?= 1
ifeq ($(SANITIZE),1)
override STATIC := 0
endif
ifeq ($(STATIC),1)
PKG_CFLAGS = $(shell pkg-config --cflags lua5.4 libuv 2>/dev/null) -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL
LUA_LIBS   = -l:liblua5.4.a -lm -ldl
PKG_LIBS   = -l:liblua5.4.a -l:libhttp_parser.a $(shell pkg-config --static --libs libuv-static 2>/dev/null)
LDFLAGS   += -static-libstdc++ -static-libgcc \
             -Wl,--export-dynamic-symbol='lua_*' -Wl,--export-dynamic-symbol='luaL_*'
else
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LUA_LIBS   = $(shell pkg-config --libs lua5.4 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser
endif

CXXFLAGS ?= -O2 -g
# Link-time optimisation: the whole program is optimised as one, which drops
# the copies of inline library code (fmt, nlohmann) every translation unit
# carries. The binary's code shrinks by 40 %, and with it the pages the
# kernel maps in (its fault-around maps most of a small binary's code): idle
# PSS falls by about 0.65 MiB. `make LTO=0` links faster while developing.
LTO ?= 1
ifeq ($(SANITIZE),1)
override LTO := 0
endif
ifeq ($(LTO),1)
CXXFLAGS += -flto=auto
LDFLAGS  += -flto=auto
endif
# Each function and object in its own section, so that the linker drops the
# ones nothing calls.
CXXFLAGS += -ffunction-sections -fdata-sections
LDFLAGS  += -Wl,--gc-sections
CXXFLAGS += -std=c++20 -Wall -Wextra -Wshadow -Wnon-virtual-dtor -pedantic -MMD -MP
ifeq ($(WERROR),1)
CXXFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
CPPFLAGS += -Isrc $(PKG_CFLAGS) -DLUVSUP_DATA_DIR='"$(PREFIX)/share/luvsup"'
LDLIBS   += $(PKG_LIBS)

# src/app/logging_library.cpp compiles spdlog and fmt in; linked shared, the
# libraries carry them.
LIB_SRCS  := $(filter-out src/main.cpp $(if $(filter 1,$(STATIC)),,src/app/logging_library.cpp),\
               $(shell find src -name '*.cpp' | sort))
# luvsup's own Lua modules, compiled at build time by a host tool linked with
# the same Lua and embedded in the binary (src/lua/embedded_module.hpp), so
# that a Lua state does not parse them at every start and reload.
EMBEDDED_LUA := $(filter-out lua/luvsup/_%,$(sort $(wildcard lua/luvsup/*.lua)))
EMBED_TOOL   := $(BUILD)/tools/embed_lua_modules
EMBED_TABLE  := $(BUILD)/gen/embedded_module_table.cpp
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/embedded_module_table.o
UNIT_SRCS := $(shell find tests/unit -name '*.cpp' 2>/dev/null | sort)
UNIT_OBJS := $(UNIT_SRCS:%.cpp=$(BUILD)/obj/%.o)
TEST_HELPER_SRCS := $(shell find tests/helpers -name '*.c' 2>/dev/null | sort)
TEST_HELPERS := $(TEST_HELPER_SRCS:tests/helpers/%.c=$(BUILD)/helpers/%)

.PHONY: FORCE all deps test-deps unit-tests test check-asan demo install uninstall lint format clean \
        bench fuzz fuzz-run

all: deps $(BUILD)/luvsup

deps:
	@if ! pkg-config --exists $(PKGS) 2>/dev/null || [ ! -f /usr/include/doctest/doctest.h ] \
	    || [ ! -f /usr/include/nlohmann/json.hpp ] || ! pkg-config --exists libcurl 2>/dev/null \
	    || [ ! -f /usr/include/http_parser.h ] \
	    || ! command -v $(CXX) >/dev/null; then \
	  echo "luvsup: installing build dependencies: $(BUILD_DEBS)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(BUILD_DEBS); \
	fi

test-deps: deps
	@missing=""; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v mandoc >/dev/null || missing="$$missing mandoc"; \
	command -v pkill >/dev/null || missing="$$missing procps"; \
	if [ -n "$$missing" ]; then \
	  echo "luvsup: installing test dependencies:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@servers=""; \
	command -v redis-server >/dev/null || servers="$$servers redis-server"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || servers="$$servers nginx"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || servers="$$servers postgresql"; \
	command -v uvicorn >/dev/null || servers="$$servers uvicorn"; \
	command -v gunicorn >/dev/null || servers="$$servers gunicorn"; \
	command -v sqlite3 >/dev/null || servers="$$servers sqlite3"; \
	if [ -n "$$servers" ]; then \
	  echo "luvsup: installing the servers the recipe tests run:$$servers"; \
	  { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$servers; } || \
	  echo "luvsup: could not install$$servers: their recipe tests will be skipped"; \
	fi

$(BUILD)/luvsup: $(BUILD)/obj/src/main.o $(BUILD)/libluvsup.a $(BUILD)/ldflags
	$(CXX) $(LDFLAGS) -o $@ $(filter-out $(BUILD)/ldflags,$^) $(LDLIBS)

$(BUILD)/libluvsup.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# The flags of the last build: objects and binaries are rebuilt when they
# change (STATIC, LTO, CXXFLAGS), so that one build never mixes two settings.
# PREFIX and WERROR are left out: `make install PREFIX=...` installs what was
# built with the same other flags (the binary finds its library next to
# itself, see src/lua/data_dir.cpp), and -Werror changes no object (so
# `make WERROR=1` after a plain `make` recompiles nothing: CI builds afresh).
# Compiling and linking have a stamp each, so that a change of link flags
# relinks without recompiling.
$(BUILD)/cflags: FORCE | deps
	$(shell mkdir -p $(@D))
	$(file >$@.new,$(CXX) $(filter-out -DLUVSUP_DATA_DIR=%,$(CPPFLAGS)) $(filter-out -Werror,$(CXXFLAGS)))
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

$(BUILD)/ldflags: FORCE | deps
	$(shell mkdir -p $(@D))
	$(file >$@.new,$(CXX) $(LDFLAGS) $(LDLIBS))
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

FORCE:

# Order-only on deps: with -j, nothing compiles before missing packages are
# installed (the pkg-config flags are expanded only when a recipe runs).
$(BUILD)/obj/%.o: %.cpp $(BUILD)/cflags | deps
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

# The tool needs only Lua, the one the binary links (same -L directories); it
# is rebuilt when the compile or link flags (STATIC, include paths) change.
$(EMBED_TOOL): tools/embed_lua_modules.cpp src/core/content_hash.hpp src/lua/embedded_module.hpp \
               $(BUILD)/cflags $(BUILD)/ldflags | deps
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O2 $(filter -W% -pedantic,$(CXXFLAGS)) $(CPPFLAGS) -o $@ $< \
	  $(filter -L%,$(LDFLAGS)) $(LUA_LIBS)

# The directory is a prerequisite so that adding or removing a module
# regenerates the table.
$(EMBED_TABLE): $(EMBED_TOOL) $(EMBEDDED_LUA) lua/luvsup
	@mkdir -p $(@D)
	$(EMBED_TOOL) $@ lua $(EMBEDDED_LUA)

$(BUILD)/obj/gen/embedded_module_table.o: $(EMBED_TABLE) $(BUILD)/cflags | deps
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

$(BUILD)/unit_tests: $(UNIT_OBJS) $(BUILD)/libluvsup.a $(BUILD)/ldflags | $(TEST_HELPERS)
	$(CXX) $(LDFLAGS) -o $@ $(filter-out $(BUILD)/ldflags,$^) $(LDLIBS)

$(BUILD)/helpers/%: tests/helpers/%.c | deps
	@mkdir -p $(@D)
	$(CC) -O1 -g -Wall -Wextra -o $@ $<

unit-tests: all $(BUILD)/unit_tests $(TEST_HELPERS)

test: test-deps all $(BUILD)/unit_tests $(TEST_HELPERS)
	@python3 tests/run_all.py --build $(BUILD)

check-asan:
	$(MAKE) -j$(shell nproc) BUILD=build-asan SANITIZE=1 test

demo: test-deps all
	@echo "luvsup demo: Ctrl-C stops the stack"
	./$(BUILD)/luvsup run examples/demo/stack.lua

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/luvsup \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BUILD)/luvsup $(DESTDIR)$(PREFIX)/bin/luvsup
	cp -R lua recipes $(DESTDIR)$(PREFIX)/share/luvsup/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/luvsup $(DESTDIR)$(PREFIX)/share/luvsup
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/luvsup.1 $(DESTDIR)$(PREFIX)/share/man/man5/luvsup-stack.5 \
	  $(DESTDIR)$(PREFIX)/share/man/man7/luvsup-control.7

# The control request parser under libFuzzer, ASan and UBSan. Not part of
# `make test`. `make fuzz-run` starts from the seeds in tests/fuzz/control_request
# and keeps what it finds in build-fuzz/corpus.
FUZZ_CXX     ?= clang++-14
FUZZ_SECONDS ?= 120
FUZZ_BUILD   := build-fuzz
FUZZ_SRCS    := tests/fuzz/fuzz_control_request.cpp src/control/request.cpp

fuzz: $(FUZZ_BUILD)/fuzz_control_request

$(FUZZ_BUILD)/fuzz_control_request: $(FUZZ_SRCS) src/control/request.hpp
	@mkdir -p $(@D)
	$(FUZZ_CXX) -std=c++20 -O1 -g -Isrc -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined -o $@ $(FUZZ_SRCS)

fuzz-run: fuzz
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_BUILD)/fuzz_control_request -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -timeout=10 $(FUZZ_BUILD)/corpus tests/fuzz/control_request

# Installs the peers it needs (apt-get, npm into bench/work) and writes
# bench/RESULTS.md; see bench/README.md.
bench: all
	python3 bench/run.py --luvsup $(BUILD)/luvsup $(ARGS)

lint:
	mandoc -Tlint -W warning man/*.[1-9]

format:
	clang-format -i $$(find src tests/unit -name '*.cpp' -o -name '*.hpp')

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/obj/src/main.d
