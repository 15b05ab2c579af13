#include "core/dependency_graph.hpp"

#include <doctest/doctest.h>

using namespace luvsup::core;

TEST_CASE("independent services share the first start level in declaration order") {
  auto result = start_levels({{"a", {}}, {"b", {}}, {"c", {}}});
  REQUIRE(std::holds_alternative<StartLevels>(result));
  CHECK(std::get<StartLevels>(result) == StartLevels{{"a", "b", "c"}});
}

TEST_CASE("a service starts a level after everything it depends on") {
  auto result = start_levels({{"web", {"api", "cache"}}, {"api", {"db"}}, {"db", {}}, {"cache", {}}});
  REQUIRE(std::holds_alternative<StartLevels>(result));
  CHECK(std::get<StartLevels>(result) == StartLevels{{"db", "cache"}, {"api"}, {"web"}});
}

TEST_CASE("a dependency cycle is reported with every service in it") {
  auto result = start_levels({{"ok", {}}, {"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}});
  REQUIRE(std::holds_alternative<DependencyCycle>(result));
  CHECK(std::get<DependencyCycle>(result).message() == "dependency cycle: a -> b -> c -> a");
}

TEST_CASE("a service depending on itself is a cycle of one") {
  auto result = start_levels({{"a", {"a"}}});
  REQUIRE(std::holds_alternative<DependencyCycle>(result));
  CHECK(std::get<DependencyCycle>(result).message() == "dependency cycle: a -> a");
}

TEST_CASE("a cycle behind a healthy chain is still found") {
  auto result = start_levels({{"top", {"x"}}, {"x", {"y"}}, {"y", {"x"}}});
  REQUIRE(std::holds_alternative<DependencyCycle>(result));
  CHECK(std::get<DependencyCycle>(result).message() == "dependency cycle: x -> y -> x");
}
