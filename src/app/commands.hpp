// The `luvsup` subcommands. Each returns the process exit code.
#pragma once

#include "cli/options.hpp"

namespace luvsup::app {

// Exit codes shared by every command (documented in luvsup(1)).
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;
inline constexpr int k_exit_not_running = 3;  // control commands: no luvsup serves the socket
inline constexpr int k_exit_denied = 4;       // control commands: the socket refused this user

// `luvsup run`: supervise the stack until SIGINT/SIGTERM; 0 when the shutdown
// was clean (nothing had to be SIGKILLed), 1 otherwise or when the stack does
// not load.
int run_command(const cli::Options& options);

// `luvsup check`: validate the stack and print its start order.
int check_command(const cli::Options& options);

}  // namespace luvsup::app
