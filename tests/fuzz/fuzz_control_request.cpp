// libFuzzer target for the control request parser (`make fuzz`).
//
// Any byte string must yield a Request or a RequestError, never a crash, a
// hang, undefined behaviour or an exception; a parsed request must satisfy
// the invariants the handlers rely on.
#include "control/request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = luvsup::control::parse_request(line);
  if (auto* request = std::get_if<luvsup::control::Request>(&parsed)) {
    using luvsup::control::Cmd;
    const bool one_name = request->cmd == Cmd::pid || request->cmd == Cmd::signal;
    if (one_name && request->services.size() != 1) {
      std::abort();
    }
    if (request->cmd == Cmd::signal && request->signal.empty()) {
      std::abort();
    }
    if (request->lines < 0) {
      std::abort();
    }
    for (const auto& name : request->services) {
      if (name.empty()) {
        std::abort();
      }
    }
    if (!request->id.is_null() && !request->id.is_string() && !request->id.is_number_integer()) {
      std::abort();
    }
  }
  return 0;
}
