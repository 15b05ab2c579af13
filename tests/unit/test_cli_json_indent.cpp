#include "cli/json_indent.hpp"
#include "cli/reply_head.hpp"

#include <doctest/doctest.h>

using namespace luvsup::cli;
using nlohmann::json;

// Keys in sorted order, as the replies have them (nlohmann sorts on parse).
TEST_CASE("indented text is what nlohmann's dump(2) gives for the same document") {
  for (const char* compact :
       {R"({"error":null,"id":1,"ok":true,"services":[{"a":[1,2,{"b":{}}],"c":[]},{"d":"x"}]})",
        R"({"empty":{},"list":[[],[{}]],"tricky":"braces { [ ] } , : and \"quotes\" \\ inside"})",
        R"([1,-2.5e-07,true,false,null,"\u0001"])", R"({})", R"([])", R"("just a string")",
        R"(42)"}) {
    CAPTURE(compact);
    CHECK(indent_json(compact) == json::parse(compact).dump(2));
  }
}

TEST_CASE("whitespace around tokens does not change the indented text") {
  CHECK(indent_json(" { \"a\" : [ 1 , 2 ] ,\n\"b\":{ } } ") ==
        json::parse(R"({"a":[1,2],"b":{}})").dump(2));
}

TEST_CASE("the reply head keeps the top-level scalars only") {
  const json head = parse_reply_head(
      R"({"error":"boom","id":3,"ok":false,"services":[{"ok":true,"name":"x"}],"stack":{"error":1},"v":1})");
  REQUIRE_FALSE(head.is_discarded());
  CHECK(head == json{{"error", "boom"}, {"id", 3}, {"ok", false}, {"v", 1}});
}

TEST_CASE("a reply that is not a JSON object has no head") {
  CHECK(parse_reply_head("not json").is_discarded());
  CHECK(parse_reply_head(R"({"ok":true,"services":[)").is_discarded());
  CHECK(parse_reply_head("[1,2]").is_discarded());
  CHECK(parse_reply_head("7").is_discarded());
  CHECK(parse_reply_head("").is_discarded());
}
