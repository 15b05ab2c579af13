// Where a stack's control socket lives.
//
// By default <state_dir>/control.sock; `stack { control = "path" }` or
// `luvsup run -s PATH` choose another. A Unix socket path holds at most 107
// bytes and libuv 1.44 silently truncates a longer one, so a path that does
// not fit is replaced by /tmp/luvsup-<uid>/<hash>.sock, keyed by the hash of
// the stack file's real path: server and clients derive the same name.
#pragma once

#include <optional>
#include <string>

namespace luvsup::control {

inline constexpr size_t k_max_socket_path = 107;

// The socket for a stack: `configured` (absolute; empty = the default under
// `state_dir`), or the short fallback when that path is too long.
std::string socket_path_for(const std::string& stack_realpath, const std::string& state_dir,
                            const std::string& configured);

// Creates the socket's directory (mode 0700) or tightens an existing one that
// luvsup owns. Returns why it failed.
std::optional<std::string> prepare_socket_dir(const std::string& socket_path);

} // namespace luvsup::control
