#include "http/request_id.h"

#include <gtest/gtest.h>

#include <string>

namespace omniflow::http {
namespace {

TEST(RequestId, KeepsTheCallersIdOfOneTo64AllowedCharacters) {
  std::string storage;
  for (std::string id : {std::string("a"), std::string("trace-42.a_b"), std::string(64, 'Z'),
                         std::string("ABCxyz019._-")}) {
    EXPECT_EQ(RequestIdFor(id, &storage), id);
    EXPECT_TRUE(storage.empty()) << id;
  }
}

TEST(RequestId, ReplacesEmptyTooLongAndForeignCharactersWithANewOne) {
  for (std::string id : {std::string(), std::string(65, 'a'), std::string("no spaces"),
                         std::string("tab\t"), std::string("slash/"), std::string("colon:"),
                         std::string("plus+"), std::string("percent%41"), std::string("quote\""),
                         std::string("nul\0x", 5), std::string("é"), std::string("new\nline")}) {
    std::string storage;
    const std::string_view made = RequestIdFor(id, &storage);
    EXPECT_NE(made, id);
    EXPECT_EQ(made.substr(0, 4), "req-");
    EXPECT_EQ(made.size(), 20u);
    EXPECT_TRUE(IsValidRequestId(made));
  }
  std::string storage;
  EXPECT_EQ(RequestIdFor(std::nullopt, &storage).substr(0, 4), "req-");
}

TEST(RequestId, MadeIdsDiffer) {
  std::string a, b;
  EXPECT_NE(RequestIdFor(std::nullopt, &a), RequestIdFor(std::nullopt, &b));
}

}  // namespace
}  // namespace omniflow::http
