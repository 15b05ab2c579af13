// Service specs for unit tests of the state machine: a named service that
// runs /bin/true, depends on `deps` ("started") and restarts by `policy`
// (the default backoff when null).
#pragma once

#include "core/restart_policy.hpp"
#include "core/service_spec.hpp"

#include <memory>
#include <string>
#include <vector>

namespace luvsup::test {

inline std::shared_ptr<core::ServiceSpec>
make_service_spec(std::string name, std::vector<std::string> deps = {},
                  std::shared_ptr<core::RestartPolicy> policy = nullptr) {
  auto spec = std::make_shared<core::ServiceSpec>();
  spec->name = std::move(name);
  spec->argv = {"/bin/true"};
  for (auto& d : deps) {
    spec->depends_on.push_back({d, "started"});
  }
  spec->restart = policy ? policy : std::make_shared<core::DefaultBackoff>();
  return spec;
}

}  // namespace luvsup::test
