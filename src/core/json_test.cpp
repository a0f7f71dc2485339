#include "core/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace omniflow {
namespace {

// The escaping rules, one byte at a time: the reference the fast path must agree with.
std::string Reference(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

TEST(JsonString, EscapesEverySpecialByteAtEveryPosition) {
  for (int special = 0; special < 0x20 + 2; ++special) {
    char c = special < 0x20 ? static_cast<char>(special) : (special == 0x20 ? '"' : '\\');
    for (size_t len = 1; len <= 20; ++len) {
      for (size_t pos = 0; pos < len; ++pos) {
        std::string text(len, 'a');
        text[pos] = c;
        ASSERT_EQ(JsonString(text), Reference(text)) << special << " " << len << " " << pos;
      }
    }
  }
}

TEST(JsonString, MatchesTheReferenceOnRandomText) {
  std::mt19937 rng(42);
  const std::string alphabet = std::string("ab \"\\\n\t\x01\x1f\x7f") + "\xc3\xa9\xe2\x82\xac";
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    size_t len = rng() % 70;
    for (size_t i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    ASSERT_EQ(JsonString(text), Reference(text)) << text;
  }
  std::string out = "prefix";
  AppendJsonString(&out, "x\"y");
  EXPECT_EQ(out, "prefix\"x\\\"y\"");
}

TEST(JsonWriter, PlacesCommasAcrossNesting) {
  JsonWriter w;
  w.BeginObject().Field("a", 1).Key("b").BeginArray();
  w.BeginArray().EndArray().BeginObject().EndObject().Int(2).BeginArray().Int(3).Int(4).EndArray();
  w.EndArray().Key("c").BeginObject().Field("d", true).Field("e", false).Key("f").Null();
  w.EndObject().Key("g").BeginArray().EndArray().EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":[[],{},2,[3,4]],"c":{"d":true,"e":false,"f":null},"g":[]})");
}

TEST(JsonWriter, WritesEmptyContainersAndTopLevelScalars) {
  EXPECT_EQ(JsonWriter().BeginObject().EndObject().str(), "{}");
  EXPECT_EQ(JsonWriter().BeginArray().EndArray().str(), "[]");
  EXPECT_EQ(JsonWriter().String("x").str(), "\"x\"");
  EXPECT_EQ(JsonWriter().Null().str(), "null");
}

TEST(JsonWriter, EscapesKeysAndStringsLikeJsonString) {
  const std::string nasty = std::string("q\"b\\n\n\t\x01\x1f") + "\xc3\xa9";
  JsonWriter w;
  w.BeginObject().Field(nasty, nasty).EndObject();
  EXPECT_EQ(w.str(), "{" + JsonString(nasty) + ":" + JsonString(nasty) + "}");
}

TEST(JsonWriter, FieldOverloadsPickTheRightType) {
  const std::string owned = "s";
  const std::string_view view = "v";
  JsonWriter w;
  w.BeginObject()
      .Field("lit", "l")
      .Field("str", owned)
      .Field("view", view)
      .Field("bool", true)
      .Field("int", -3)
      .Field("i64", int64_t{-9'000'000'000})
      .Field("size", size_t{7})
      .Field("u64", std::numeric_limits<uint64_t>::max())
      .Field("i64min", std::numeric_limits<int64_t>::min())
      .Field("double", 0.5)
      .RawField("raw", R"({"x":[1]})")
      .EndObject();
  EXPECT_EQ(w.str(),
            R"({"lit":"l","str":"s","view":"v","bool":true,"int":-3,"i64":-9000000000,)"
            R"("size":7,"u64":18446744073709551615,"i64min":-9223372036854775808,)"
            R"("double":0.5,"raw":{"x":[1]}})");
}

TEST(JsonWriter, RawSplicesValuesWithCommas) {
  JsonWriter w;
  w.BeginArray().Raw(R"({"a":1})").Raw("[]").Raw("\"s\"").Raw("12").EndArray();
  EXPECT_EQ(w.str(), R"([{"a":1},[],"s",12])");
}

TEST(JsonWriter, BeginObjectFromAddsMembersToStoredObjects) {
  JsonWriter w;
  w.BeginArray();
  w.BeginObjectFrom(R"({"id":"a","n":[1,{"m":2}]})").Field("feedback", 1).EndObject();
  w.BeginObjectFrom("{}").Key("feedback").Null().EndObject();
  w.BeginObjectFrom(R"({"id":"b"})").EndObject();
  w.EndArray();
  EXPECT_EQ(w.str(),
            R"([{"id":"a","n":[1,{"m":2}],"feedback":1},{"feedback":null},{"id":"b"}])");
}

TEST(JsonWriter, WritesDoublesShortestOrToGivenDigits) {
  auto shortest = [](double v) { return JsonWriter().Double(v).Release(); };
  EXPECT_EQ(shortest(0), "0");
  EXPECT_EQ(shortest(-1), "-1");
  EXPECT_EQ(shortest(0.1), "0.1");
  EXPECT_EQ(shortest(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(shortest(1e300), "1e+300");
  EXPECT_EQ(std::stod(shortest(2.0 / 3)), 2.0 / 3);
  // Non-finite values have no JSON form: written as 0.
  EXPECT_EQ(shortest(std::nan("")), "0");
  EXPECT_EQ(shortest(std::numeric_limits<double>::infinity()), "0");
  EXPECT_EQ(shortest(-std::numeric_limits<double>::infinity()), "0");
  // With digits, exactly what printf's %.*g writes (the analytics responses' rates).
  for (double v : {0.0, 1.0, -1.0, 0.5, 1.0 / 3, 2.0 / 3, 123456789.0, 1e-7, 0.000123456789,
                   -2.5e-300, 1e21}) {
    for (int digits : {1, 6, 17}) {
      char expected[64];
      std::snprintf(expected, sizeof expected, "%.*g", digits, v);
      EXPECT_EQ(JsonWriter().Double(v, digits).Release(), expected) << v << " " << digits;
    }
  }
  EXPECT_EQ(JsonWriter().Double(std::nan(""), 6).Release(), "0");
}

TEST(JsonWriter, AppendsToAGivenString) {
  std::string out = "prefix:";
  JsonWriter w(&out);
  w.BeginObject().Field("k", "v").EndObject();
  EXPECT_EQ(out, R"(prefix:{"k":"v"})");
  EXPECT_EQ(w.Release(), R"(prefix:{"k":"v"})");
  EXPECT_TRUE(out.empty());
}

TEST(JsonWriter, WritesParsedElementsCanonically) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc =
      parser.parse(std::string_view(R"( { "a" : [ 1 , 2.5, "x" ] } )")).value();
  JsonWriter w;
  w.BeginObject().Key("doc").Element(doc).Field("after", 1).EndObject();
  EXPECT_EQ(w.str(), R"({"doc":{"a":[1,2.5,"x"]},"after":1})");
}

}  // namespace
}  // namespace omniflow
