// luvsup's own Lua modules (lua/luvsup/*.lua) compiled at build time by
// tools/embed_lua_modules into build/gen/embedded_module_table.cpp, so that a
// Lua state loads them without running the parser. The files on disk stay
// authoritative: an entry is used only for a file whose bytes hash to its
// source_hash (see module_searcher.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace luvsup::lua {

// One module as lua_dump wrote it, not stripped: line information stays for
// error positions and tracebacks.
struct EmbeddedModule {
  std::string_view name;      // the require name, "luvsup.dsl"
  uint64_t source_hash;       // core::content_hash of the .lua file compiled
  std::string_view bytecode;  // lua_dump output
  // Where the main function's source name (the chunk name: a size in Lua's
  // dump encoding, then the bytes) lies in `bytecode`. It names the file as
  // the build saw it; loading replaces it with the file's real path.
  size_t chunk_name_offset;
  size_t chunk_name_size;
};

// The modules compiled into this binary (defined in the generated table).
std::span<const EmbeddedModule> embedded_modules();

// The entry of `name` in `modules`, or null.
const EmbeddedModule* find_embedded_module(std::span<const EmbeddedModule> modules,
                                           std::string_view name) noexcept;

// A string as lua_dump writes it: its length + 1 as a big-endian base-128
// number whose last byte has the high bit set, then its bytes (Lua 5.4's
// dumpSize and dumpString).
inline std::string dump_string(std::string_view s) {
  size_t n = s.size() + 1;
  std::string size(1, static_cast<char>((n & 0x7f) | 0x80));
  while ((n >>= 7) != 0) {
    size.insert(size.begin(), static_cast<char>(n & 0x7f));
  }
  return size.append(s);
}

// `module`'s bytecode with its chunk name replaced by `chunk_name`
// ("@/path/to/file.lua"), or nullopt when the recorded place of the name
// does not fit the bytecode.
std::optional<std::string> with_chunk_name(const EmbeddedModule& module,
                                           std::string_view chunk_name);

}  // namespace luvsup::lua
