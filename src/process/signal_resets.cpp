#include "process/signal_resets.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <optional>

namespace luvsup::process {

namespace {

// The kernel's struct sigaction: glibc's sigaction() refuses its reserved
// signals (32, 33), which can still be ignored or caught.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};

std::optional<SignalResets> s_snapshot;

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

SignalSnapshot::SignalSnapshot() { s_snapshot = read_signal_resets(); }

SignalSnapshot::~SignalSnapshot() { s_snapshot.reset(); }

const SignalResets* snapshot_signal_resets() { return s_snapshot ? &*s_snapshot : nullptr; }

}  // namespace luvsup::process
