#include "core/json.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace omniflow
