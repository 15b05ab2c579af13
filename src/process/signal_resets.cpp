#include "process/signal_resets.hpp"

#include "os/signal_epoch.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <optional>

namespace luvsup::process {

namespace {

struct Snapshot {
  SignalResets resets;
  uint64_t epoch;  // os::signal_epoch() when read
};

std::optional<Snapshot> s_snapshot;

}  // namespace

SignalResets read_signal_resets() {
  SignalResets out;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) {
      continue;
    }
    KernelSigaction current{};
    // A signal that cannot be read is listed: resetting it is the safe side.
    if (syscall(SYS_rt_sigaction, sig, nullptr, &current, sizeof current.mask) != 0 ||
        current.handler != SIG_DFL) {
      out.signals[out.count++] = sig;
    }
  }
  return out;
}

SignalSnapshot::SignalSnapshot() { s_snapshot = Snapshot{read_signal_resets(), os::signal_epoch()}; }

SignalSnapshot::~SignalSnapshot() { s_snapshot.reset(); }

const SignalResets* snapshot_signal_resets() {
  return s_snapshot && s_snapshot->epoch == os::signal_epoch() ? &s_snapshot->resets : nullptr;
}

}  // namespace luvsup::process
