// A probe that could not start: reports its error from the loop, never
// inline, as every probe does.
#pragma once

#include "health/probe.hpp"

#include <uv.h>

#include <memory>
#include <string>

namespace luvsup::health {

std::unique_ptr<PendingProbe> start_failed_probe(uv_loop_t* loop, std::string error,
                                                 ProbeDone done);

} // namespace luvsup::health
