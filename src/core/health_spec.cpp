#include "core/health_spec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace luvsup::core {

std::string_view to_string(ProbeSpec::Kind kind) {
  switch (kind) {
  case ProbeSpec::Kind::http:
    return "http";
  case ProbeSpec::Kind::tcp:
    return "tcp";
  case ProbeSpec::Kind::exec:
    return "exec";
  case ProbeSpec::Kind::lua:
    return "lua";
  case ProbeSpec::Kind::all:
    return "all";
  case ProbeSpec::Kind::any:
    return "any";
  }
  return "unknown";
}

std::string describe(const ProbeSpec& probe) {
  switch (probe.kind) {
  case ProbeSpec::Kind::http:
    return "http " + probe.http.url;
  case ProbeSpec::Kind::tcp:
    return fmt::format("tcp {}:{}", probe.host, probe.port);
  case ProbeSpec::Kind::exec:
    if (probe.argv.size() == 3 && probe.argv[0] == "/bin/sh" && probe.argv[1] == "-c") {
      return "exec " + probe.argv[2];  // a string command, as the user wrote it
    }
    return fmt::format("exec {}", fmt::join(probe.argv, " "));
  case ProbeSpec::Kind::lua:
    return "lua function";
  case ProbeSpec::Kind::all:
  case ProbeSpec::Kind::any:
    return fmt::format("{} of {}", to_string(probe.kind), probe.children.size());
  }
  return "unknown";
}

namespace {
void collect(const ProbeSpec& probe, std::vector<const ProbeSpec*>& out) {
  if (probe.leaf > 0) {
    out.push_back(&probe);
  }
  for (const ProbeSpec& child : probe.children) {
    collect(child, out);
  }
}
} // namespace

std::vector<const ProbeSpec*> io_leaves(const ProbeSpec& probe) {
  std::vector<const ProbeSpec*> out;
  collect(probe, out);
  return out;
}

} // namespace luvsup::core
