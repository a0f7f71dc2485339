#include "trust/chain.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

namespace omniflow::trust {
namespace {

using Kind = ChainRecord::Kind;

// Builds a valid chain of interactions with seqs 1..n, as a store would hold it.
std::vector<ChainRecord> Chain(int n) {
  ChainHasher hasher;
  std::vector<ChainRecord> records;
  ChainHash prev = kGenesis;
  for (int i = 1; i <= n; ++i) {
    ChainRecord r{i, Kind::kInteraction, "INT_" + std::to_string(i),
                  R"({"interaction_id":"INT_)" + std::to_string(i) + R"(","user_message":"m"})",
                  std::nullopt, ""};
    prev = hasher.Next(prev, r.json);
    r.stored = prev;
    records.push_back(r);
  }
  return records;
}

ChainHead HeadOf(const std::vector<ChainRecord>& records) {
  return ChainHead{records.back().seq, *records.back().stored};
}

std::optional<ChainBreak> Verify(const std::vector<ChainRecord>& records, ChainHead head,
                                 int64_t contiguous_from = 1) {
  ChainVerifier verifier(1, kGenesis, contiguous_from);
  for (const ChainRecord& r : records) {
    if (!verifier.Feed(r)) break;
  }
  verifier.Finish(head);
  if (verifier.broken()) {
    std::map<int64_t, ChainHash> stored;
    for (const ChainRecord& r : records) {
      if (r.stored) stored[r.seq] = *r.stored;
    }
    verifier.ExplainBreak(stored);
  }
  return verifier.broken();
}

TEST(ChainHasher, IsSha256OfThePreviousHashThenTheJson) {
  ChainHash prev;
  for (size_t i = 0; i < prev.size(); ++i) prev[i] = static_cast<uint8_t>(i);
  std::string json = R"({"a":1})";
  std::string input(reinterpret_cast<const char*>(prev.data()), prev.size());
  input += json;
  ChainHash expected;
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), expected.data());
  ChainHasher hasher;
  EXPECT_EQ(hasher.Next(prev, json), expected);
}

TEST(ChainHashText, RoundTripsAndRejectsOtherText) {
  ChainHasher hasher;
  ChainHash h = hasher.Next(kGenesis, "x");
  std::string text = ChainHashText(h);
  EXPECT_EQ(text.size(), 7u + 64u);
  EXPECT_EQ(text.rfind("sha256:", 0), 0u);
  Result<ChainHash> back = ParseChainHash(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(ParseChainHash(text.substr(1)).ok());
  EXPECT_FALSE(ParseChainHash("sha256:" + std::string(64, 'G')).ok());
  // Upper-case hex is another text of the same hash: refused, so that anchors compare as text.
  EXPECT_FALSE(ParseChainHash("sha256:" + std::string(64, 'A')).ok());
  EXPECT_TRUE(ParseChainHash("sha256:" + std::string(64, 'a')).ok());
  EXPECT_FALSE(ParseChainHash("").ok());
}

TEST(ChainVerifier, AnIntactChainVerifiesAndSeesEveryHash) {
  auto records = Chain(5);
  ChainVerifier verifier(1, kGenesis, 1);
  for (const auto& r : records) ASSERT_TRUE(verifier.Feed(r));
  EXPECT_TRUE(verifier.Finish(HeadOf(records)));
  EXPECT_EQ(verifier.verified(), 5);
  EXPECT_TRUE(verifier.Saw(*records[2].stored));
  EXPECT_FALSE(verifier.Saw(kGenesis));
}

TEST(ChainVerifier, AnEmptyChainVerifies) {
  ChainVerifier verifier(1, kGenesis, 1);
  EXPECT_TRUE(verifier.Finish(ChainHead{}));
  EXPECT_EQ(verifier.verified(), 0);
}

TEST(ChainVerifier, ChangedContentIsNamed) {
  auto records = Chain(5);
  records[2].json[records[2].json.size() - 3] = 'X';
  auto broken = Verify(records, HeadOf(records));
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->seq, 3);
  EXPECT_EQ(broken->record, "interaction INT_3");
  EXPECT_EQ(broken->why.rfind("content changed", 0), 0u) << broken->why;
}

TEST(ChainVerifier, ADeletedRecordIsMissing) {
  auto records = Chain(5);
  records.erase(records.begin() + 1);
  auto broken = Verify(records, HeadOf(records));
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->seq, 2);
  EXPECT_EQ(broken->why.rfind("record missing", 0), 0u) << broken->why;
}

TEST(ChainVerifier, TheFirstAndTheLastRecordDeletedAreMissing) {
  auto records = Chain(5);
  const ChainHead head = HeadOf(records);
  auto first = records;
  first.erase(first.begin());
  auto broken = Verify(first, head);
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->seq, 1);
  auto last = records;
  last.pop_back();
  broken = Verify(last, head);
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->seq, 5);
  EXPECT_EQ(broken->why.rfind("record missing", 0), 0u) << broken->why;
}

TEST(ChainVerifier, SwappedRecordsAreAnOrderChange) {
  auto records = Chain(6);
  // The rows of seq 3 and 4 swap places, each with its own stored hash.
  std::swap(records[2].json, records[3].json);
  std::swap(records[2].id, records[3].id);
  std::swap(records[2].stored, records[3].stored);
  auto broken = Verify(records, HeadOf(records));
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->seq, 3);
  EXPECT_EQ(broken->record, "interaction INT_4");
  EXPECT_EQ(broken->why.rfind("order changed", 0), 0u) << broken->why;
}

TEST(ChainVerifier, ColumnsThatDifferFromTheRecordAreAChangeNotAMove) {
  auto records = Chain(4);
  records[2].columns_differ = "its user_id column no longer matches it";
  auto broken = Verify(records, HeadOf(records));
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->seq, 3);
  EXPECT_EQ(broken->why, "content changed: its user_id column no longer matches it");
}

TEST(ChainVerifier, ATombstoneCarriesTheChainWithoutItsContent) {
  auto records = Chain(5);
  records[1] = ChainRecord{2, Kind::kTombstone, "INT_2", "", records[1].stored, ""};
  EXPECT_FALSE(Verify(records, HeadOf(records)));
  // A tombstone whose hash was changed breaks the next record.
  records[1].stored->at(0) ^= 1;
  auto broken = Verify(records, HeadOf(records));
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->seq, 3);
}

TEST(ChainVerifier, GapsBeforeTheChainBeganAreOnlyHashChecked) {
  // Rows 1..5 were chained by a backfill after row 2 had been deleted: seqs 1, 3, 4, 5.
  ChainHasher hasher;
  std::vector<ChainRecord> records;
  ChainHash prev = kGenesis;
  for (int seq : {1, 3, 4, 5}) {
    ChainRecord r{seq, Kind::kInteraction, "INT_" + std::to_string(seq), "{}", std::nullopt, ""};
    prev = hasher.Next(prev, r.json);
    r.stored = prev;
    records.push_back(r);
  }
  EXPECT_FALSE(Verify(records, HeadOf(records), /*contiguous_from=*/6));
  EXPECT_TRUE(Verify(records, HeadOf(records), /*contiguous_from=*/1));
}

TEST(ChainVerifier, AChangedHeadIsNamed) {
  auto records = Chain(3);
  ChainHead head = HeadOf(records);
  head.hash[0] ^= 1;
  auto broken = Verify(records, head);
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->record, "the chain's head");
}

}  // namespace
}  // namespace omniflow::trust
