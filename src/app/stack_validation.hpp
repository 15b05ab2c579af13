// Loading a stack file all the way to a start order: the Lua DSL validates
// keys and types, then the dependency graph rejects cycles. `run` and `check`
// share it so that `check` accepts exactly what `run` would run.
#pragma once

#include "core/dependency_graph.hpp"
#include "lua/stack_loader.hpp"

#include <string>
#include <variant>

namespace luvsup::app {

struct OrderedStack {
  lua::StackDefinition definition;
  core::StartLevels levels;
};

// The ordered stack, or the error message (file:line first) to show the user.
// Hooks reach the supervisor through `environment` (null: `luvsup check`).
std::variant<OrderedStack, std::string> load_and_order(const std::string& stack_file,
                                                       runbook::Environment* environment = nullptr);

}  // namespace luvsup::app
