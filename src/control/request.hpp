// One control request, parsed from one JSON line (see luvsup-control(7)).
//
//   {"v":1,"id":7,"cmd":"stop","services":["web"]}
//
// Parsing is a pure function of the line, so the fuzzer and the unit tests
// drive it without a socket. Every way a line can be wrong yields a
// RequestError with the message the reply carries; nothing throws.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace luvsup::control {

inline constexpr int k_protocol_version = 1;
// The error of a request whose "stack" is not the one this luvsup runs,
// followed by the stack it runs.
inline constexpr std::string_view k_other_stack = "this socket serves another stack: ";
// Longest request line accepted, newline excluded.
inline constexpr size_t k_max_request = 64 * 1024;

enum class Cmd { status, start, stop, restart, logs, reload, plan, shutdown, pid, signal };

struct Request {
  nlohmann::json id; // echoed in the reply; null when absent
  Cmd cmd = Cmd::status;
  std::vector<std::string> services; // status, start, stop, restart, logs: empty = every service
  bool all = false;                  // start, stop, restart: every service (instead of names)
  std::string signal;                // signal: a name ("TERM", "SIGUSR1") or a number
  int lines = 10;                    // logs: how many past lines
  bool follow = false;               // logs: keep streaming new lines
  std::string file;                  // plan: the stack file to plan against (empty: the running one's)
  std::string stack;                 // any: the real path of the stack meant (empty: whichever runs)
};

struct RequestError {
  nlohmann::json id; // the request's id when it could be read, else null
  std::string message;
};

// Parses one line (without its newline).
std::variant<Request, RequestError> parse_request(std::string_view line);

std::string_view to_string(Cmd cmd);

} // namespace luvsup::control
