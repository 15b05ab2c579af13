#include "runbook/state_store.hpp"

#include <doctest/doctest.h>

using namespace luvsup;

TEST_CASE("the state store keeps, replaces and forgets values by key") {
  runbook::StateStore store;
  CHECK_FALSE(store.get("a").has_value());
  store.set("a", "1");
  store.set("b", "{\"x\":true}");
  CHECK(store.get("a") == "1");
  store.set("a", "\"two\"");
  CHECK(store.get("a") == "\"two\"");
  store.erase("a");
  store.erase("never set");
  CHECK_FALSE(store.get("a").has_value());
  CHECK(store.get("b") == "{\"x\":true}");
  CHECK(store.size() == 1);
}
