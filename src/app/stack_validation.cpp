#include "app/stack_validation.hpp"

#include <fmt/format.h>

namespace luvsup::app {

std::variant<OrderedStack, std::string> load_and_order(const std::string& stack_file,
                                                       runbook::Environment* environment) {
  auto loaded = lua::load_stack(stack_file, environment);
  if (auto* error = std::get_if<lua::LoadError>(&loaded)) {
    return error->message;
  }
  auto& definition = std::get<lua::StackDefinition>(loaded);
  std::vector<core::GraphNode> nodes;
  nodes.reserve(definition.services.size());
  for (const auto& spec : definition.services) {
    auto& node = nodes.emplace_back(core::GraphNode{spec.name, {}});
    for (const auto& dep : spec.depends_on) {
      node.depends_on.push_back(dep.name);
    }
  }
  auto levels = core::start_levels(nodes);
  if (auto* cycle = std::get_if<core::DependencyCycle>(&levels)) {
    const auto* first = &definition.services.front();
    for (const auto& spec : definition.services) {
      if (spec.name == cycle->services.front()) {
        first = &spec;
      }
    }
    // Name the file as the user did, like the DSL's own messages.
    const std::string& file = first->source_file == definition.file ? stack_file : first->source_file;
    return fmt::format("{}:{}: {}", file, first->source_line, cycle->message());
  }
  return OrderedStack{std::move(definition), std::move(std::get<core::StartLevels>(levels))};
}

}  // namespace luvsup::app
