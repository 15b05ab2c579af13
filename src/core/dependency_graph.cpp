#include "core/dependency_graph.hpp"

#include <algorithm>
#include <unordered_map>

namespace luvsup::core {

std::string DependencyCycle::message() const {
  std::string text = "dependency cycle: ";
  for (size_t i = 0; i < services.size(); ++i) {
    text += (i == 0 ? "" : " -> ") + services[i];
  }
  return text;
}

namespace {

// Finds one cycle among the nodes left unplaced by the level pass: every such
// node has an unplaced dependency, so walking unplaced dependencies from any of
// them must revisit a node.
DependencyCycle find_cycle(const std::vector<GraphNode>& nodes,
                           const std::unordered_map<std::string, size_t>& index,
                           const std::vector<bool>& placed) {
  size_t start = 0;
  while (placed[start]) {
    ++start;
  }
  std::vector<int> seen_at(nodes.size(), -1);
  std::vector<size_t> path;
  size_t current = start;
  while (seen_at[current] < 0) {
    seen_at[current] = static_cast<int>(path.size());
    path.push_back(current);
    for (const auto& dep : nodes[current].depends_on) {
      auto it = index.find(dep);
      if (it != index.end() && !placed[it->second]) {
        current = it->second;
        break;
      }
    }
  }
  DependencyCycle cycle;
  for (size_t i = static_cast<size_t>(seen_at[current]); i < path.size(); ++i) {
    cycle.services.push_back(nodes[path[i]].name);
  }
  cycle.services.push_back(nodes[current].name);
  return cycle;
}

}  // namespace

std::variant<StartLevels, DependencyCycle> start_levels(const std::vector<GraphNode>& nodes) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < nodes.size(); ++i) {
    index.emplace(nodes[i].name, i);
  }
  std::vector<bool> placed(nodes.size(), false);
  size_t placed_count = 0;
  StartLevels levels;
  while (placed_count < nodes.size()) {
    std::vector<size_t> level;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (placed[i]) {
        continue;
      }
      bool ready = std::all_of(nodes[i].depends_on.begin(), nodes[i].depends_on.end(),
                               [&](const std::string& dep) {
                                 auto it = index.find(dep);
                                 return it == index.end() || placed[it->second];
                               });
      if (ready) {
        level.push_back(i);
      }
    }
    if (level.empty()) {
      return find_cycle(nodes, index, placed);
    }
    auto& names = levels.emplace_back();
    for (size_t i : level) {
      placed[i] = true;
      names.push_back(nodes[i].name);
    }
    placed_count += level.size();
  }
  return levels;
}

}  // namespace luvsup::core
