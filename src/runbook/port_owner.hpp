// Who listens on a TCP port, for port_in_use: read from /proc, without
// connecting (a connection would count as traffic to the service).
//
// The LISTEN sockets on the port come from /proc/net/tcp and /proc/net/tcp6
// (any local address); their holder is the process that has one of those
// socket inodes among its /proc/<pid>/fd. Processes of other users are not
// readable without privileges: then the port is in use but its pid unknown.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace luvsup::runbook {

struct PortHolder {
  std::optional<pid_t> pid; // unset when no readable process holds the socket
  std::string command;      // its command line, arguments joined by spaces; "" without pid
};

// The holder of a LISTEN socket on `port`, or nullopt when nothing listens.
// `proc` is the proc file system's mount point (tests may point elsewhere).
std::optional<PortHolder> port_holder(int port, const std::string& proc = "/proc");

} // namespace luvsup::runbook
