#include "lifecycle/receipt.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace omniflow::lifecycle {
namespace {

TEST(CanonicalJson, SortsKeysAtEveryLevelWithoutWhitespace) {
  Result<std::string> c = CanonicalJson(R"( {"b": 1, "a": {"z": [3, {"y": 1, "x": 2}], "c": null},
                                           "é": "ü\n", "A": true} )");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(*c, "{\"A\":true,\"a\":{\"c\":null,\"z\":[3,{\"x\":2,\"y\":1}]},\"b\":1,"
                "\"é\":\"ü\\n\"}");
}

TEST(CanonicalJson, DropsOnlyTheTopLevelKeyItIsAskedTo) {
  Result<std::string> c = CanonicalJson(R"({"signature":"x","in":{"signature":"y"}})", "signature");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, R"({"in":{"signature":"y"}})");
}

TEST(CanonicalJson, RefusesFractionsDuplicateKeysAndMalformedText) {
  EXPECT_FALSE(CanonicalJson(R"({"a":1.5})").ok());
  EXPECT_FALSE(CanonicalJson(R"({"a":1,"a":2})").ok());
  EXPECT_FALSE(CanonicalJson(R"({"a":)").ok());
}

TEST(InteractionDigest, IsSha256OfTheSortedIdsEachEndedByNewline) {
  EXPECT_EQ(InteractionDigest({"INT_B", "INT_A"}),
            "sha256:82dc89649d3d14b63547d037e495df4dcc2a756d65ff234de7b99168905eaea3");
  EXPECT_EQ(InteractionDigest({}),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

ErasureFacts SomeFacts() {
  ErasureFacts facts;
  facts.receipt_id = "rcpt_0123";
  facts.user_id = "alice";
  facts.erased_at_us = 1765458330123456;
  facts.store.interactions = 2;
  facts.store.tool_calls = 3;
  facts.store.threads = 1;
  facts.store.interaction_ids = {"INT_A", "INT_B"};
  facts.spooled = 1;
  return facts;
}

TEST(Receipt, SignedReceiptIsCanonicalAndVerifiesWithItsPublicKey) {
  auto key = ReceiptKey::Generate();
  ASSERT_TRUE(key.ok()) << key.status().message();
  Result<std::string> receipt = SignedReceiptJson(SomeFacts(), **key);
  ASSERT_TRUE(receipt.ok()) << receipt.status().message();
  EXPECT_EQ(*CanonicalJson(*receipt), *receipt);
  EXPECT_NE(receipt->find("\"erased_at\":\"2025-12-11T13:05:30.123456Z\""), std::string::npos);
  EXPECT_NE(receipt->find("\"counts\":{\"data_documents\":0,\"data_entries\":0,\"feedback\":0,"
                          "\"interactions\":2,\"spooled\":1,\"threads\":1,\"tool_calls\":3}"),
            std::string::npos)
      << *receipt;
  EXPECT_NE(receipt->find("\"key_id\":\"" + (*key)->key_id() + "\""), std::string::npos);
  EXPECT_EQ((*key)->key_id().size(), 16u);
  EXPECT_TRUE(VerifyReceipt(*receipt, (*key)->public_key_pem()).ok());
  // As the API answers it, too.
  EXPECT_TRUE(VerifyReceipt("{\"status\":\"success\",\"receipt\":" + *receipt + "}",
                            (*key)->public_key_pem()).ok());
}

TEST(Receipt, AlteredReceiptOrAnotherKeyFailsWithTheReason) {
  auto key = ReceiptKey::Generate();
  auto other = ReceiptKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  std::string receipt = *SignedReceiptJson(SomeFacts(), **key);
  std::string altered = receipt;
  altered.replace(altered.find("\"interactions\":2"), 16, "\"interactions\":1");
  Status s = VerifyReceipt(altered, (*key)->public_key_pem());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
  s = VerifyReceipt(receipt, (*other)->public_key_pem());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find((*other)->key_id()), std::string::npos) << s.message();
  EXPECT_FALSE(VerifyReceipt("[1]", (*key)->public_key_pem()).ok());
  EXPECT_FALSE(VerifyReceipt(receipt, "not a key").ok());
}

TEST(ReceiptKey, MadeOnceWithMode0600AndReadBackTheSame) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-key-XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  const std::string path = dir + "/receipt-key.pem";
  EXPECT_EQ(ReceiptKey::Load(path).status().code(), Status::Code::kNotFound);
  auto made = ReceiptKey::LoadOrCreate(path);
  ASSERT_TRUE(made.ok()) << made.status().message();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = ReceiptKey::LoadOrCreate(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->key_id(), (*made)->key_id());
  EXPECT_EQ(*KeyIdOfPublicKey((*made)->public_key_pem()), (*made)->key_id());
  std::ofstream(dir + "/bad.pem") << "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(ReceiptKey::Load(dir + "/bad.pem").status().code(), Status::Code::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace omniflow::lifecycle
