#include "control/json_writer.hpp"

#include <doctest/doctest.h>

#include <cmath>

using luvsup::control::JsonWriter;
using nlohmann::json;

TEST_CASE("the writer's text parses back to what was written") {
  JsonWriter out;
  out.begin_object();
  out.field("a", 1);
  out.key("list");
  out.begin_array();
  out.value("x");
  out.value(2.5);
  out.value(nullptr);
  out.begin_object();
  out.end_object();
  out.begin_array();
  out.end_array();
  out.end_array();
  out.field("flag", false);
  out.field("id", json{{"n", 7}});
  out.end_object();
  CHECK(out.text() == R"({"a":1,"list":["x",2.5,null,{},[]],"flag":false,"id":{"n":7}})");
  CHECK(json::parse(out.text()) ==
        json{{"a", 1}, {"list", {"x", 2.5, nullptr, json::object(), json::array()}},
             {"flag", false}, {"id", {{"n", 7}}}});
}

TEST_CASE("strings are escaped as nlohmann escapes them") {
  const std::string text = std::string("quote \" back \\ tab \t nl \n bell \a del \x7f e\xcc\x81 ") +
                           "\xe2\x82\xac \xf0\x9f\x98\x80";
  JsonWriter out;
  out.value(text);
  CHECK(out.text() == json(text).dump());
  CHECK(json::parse(out.text()).get<std::string>() == text);
}

TEST_CASE("invalid UTF-8 becomes the replacement character and the text stays JSON") {
  for (const std::string bad : {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                "\xe2\x82"}) {
    JsonWriter out;
    out.value(bad);
    CAPTURE(bad);
    const auto parsed = json::parse(out.text(), nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    CHECK(parsed.get<std::string>().find("\xef\xbf\xbd") != std::string::npos);
    CHECK(out.text() == json(bad).dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

TEST_CASE("doubles read back as doubles and non-finite ones as null") {
  JsonWriter out;
  out.begin_array();
  out.value(12.0);
  out.value(179.10251649999918);
  out.value(1e-7);
  out.value(std::nan(""));
  out.value(HUGE_VAL);
  out.end_array();
  CHECK(out.text() == "[12.0,179.10251649999918,1e-07,null,null]");
  const json parsed = json::parse(out.text());
  CHECK(parsed[0].is_number_float());
  CHECK(parsed[1].get<double>() == 179.10251649999918);
}
