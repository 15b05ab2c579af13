// A count that moves whenever code luvsup does not control may have changed a
// signal disposition: every call into Lua, which can load C modules. A
// reading of the dispositions (process::SignalSnapshot) holds while the count
// stays where it was when the reading was made.
#pragma once

#include <atomic>
#include <cstdint>

namespace luvsup::os {

inline std::atomic<uint64_t> g_signal_epoch{0};

inline uint64_t signal_epoch() { return g_signal_epoch.load(std::memory_order_relaxed); }

inline void advance_signal_epoch() { g_signal_epoch.fetch_add(1, std::memory_order_relaxed); }

}  // namespace luvsup::os
