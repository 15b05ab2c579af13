#include "health/failed_probe.hpp"

#include "uv/timer.hpp"

namespace luvsup::health {

namespace {

class FailedProbe final : public PendingProbe {
public:
  FailedProbe(uv_loop_t* loop, std::string error, ProbeDone done) : m_timer(loop) {
    m_timer.start(0, [this, error = std::move(error), done = std::move(done)] {
      ProbeResult result;
      result.error = error;
      auto callback = done; // may destroy this probe
      callback(std::move(result));
    });
  }

private:
  uv::Timer m_timer;
};

} // namespace

std::unique_ptr<PendingProbe> start_failed_probe(uv_loop_t* loop, std::string error,
                                                 ProbeDone done) {
  return std::make_unique<FailedProbe>(loop, std::move(error), std::move(done));
}

} // namespace luvsup::health
