// Which signals a child sets back to SIG_DFL before execve.
//
// A child must not keep a disposition of luvsup's: an ignored signal would
// stay ignored in the service, and a handler of luvsup's could run in a
// child that shares its memory. By default the child resets all 64, one
// system call each (13 us a start on a small VM). A SignalSnapshot, made
// around a burst of starts (every service at once) during which nothing
// changes a disposition, reads the dispositions once and has each child of
// the burst reset only the signals that are not SIG_DFL. A call into Lua
// during the burst (a hook, which may load a C module that sets a handler)
// ends the snapshot's use: the children after it reset all 64 again.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>

namespace luvsup::process {

// The kernel's struct sigaction: glibc's sigaction() refuses its reserved
// signals (32, 33), which can still be ignored or caught.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};

struct SignalResets {
  int signals[NSIG];
  size_t count = 0;
};

// The signals whose disposition in this process is not SIG_DFL, glibc's
// reserved ones included.
SignalResets read_signal_resets();

class SignalSnapshot {
public:
  SignalSnapshot();
  SignalSnapshot(const SignalSnapshot&) = delete;
  SignalSnapshot& operator=(const SignalSnapshot&) = delete;
  ~SignalSnapshot();
};

// The reading of the live snapshot, else nullptr (reset every signal): none
// lives, or Lua has run since it was made. One snapshot at a time, made and
// used on the thread that starts services.
const SignalResets* snapshot_signal_resets();

}  // namespace luvsup::process
