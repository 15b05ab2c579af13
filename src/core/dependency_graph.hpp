// Start order of a stack's services from their depends_on edges.
//
// Start is topological and parallel where services are independent; stop is
// the reverse. The graph only orders and finds cycles; whether a dependency's
// condition is met at run time is the supervisor's business.
#pragma once

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace luvsup::core {

struct GraphNode {
  std::string name;
  std::vector<std::string> depends_on;  // names; unknown names are ignored here (the DSL rejects them)
};

// Services grouped into levels: every service depends only on services of
// earlier levels, so each level can start in parallel once the previous one
// has started. Within a level, declaration order is kept.
using StartLevels = std::vector<std::vector<std::string>>;

struct DependencyCycle {
  std::vector<std::string> services;  // a -> b -> ... -> a, first element repeated at the end
  std::string message() const;        // "dependency cycle: a -> b -> a"
};

std::variant<StartLevels, DependencyCycle> start_levels(const std::vector<GraphNode>& nodes);

}  // namespace luvsup::core
