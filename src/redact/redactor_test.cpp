#include "redact/redactor.h"

#include <gtest/gtest.h>

namespace omniflow::redact {
namespace {

std::string Redacted(const Redactor& r, std::string_view text) {
  std::string out;
  if (!r.Redact(text, &out)) return std::string(text);
  return out;
}

RedactOptions All(RedactMode mode = RedactMode::kMask, std::string key = "") {
  RedactOptions o;
  o.types = kAllPiiTypes;
  o.mode = mode;
  o.pseudonym_key = std::move(key);
  return o;
}

TEST(Redactor, MaskReplacesEachValueByItsTypedPlaceholder) {
  Redactor r(All());
  EXPECT_EQ(
      Redacted(r,
               "mail ada@example.com or call +1 415-555-2671 from 10.0.0.1, card "
               "4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, key AKIAIOSFODNN7EXAMPLE"),
      "mail [EMAIL] or call [PHONE] from [IP], card [CARD], IBAN [IBAN], key [SECRET]");
  std::string out;
  EXPECT_FALSE(r.Redact("nothing here, version 1.2.3 on 2025-12-11", &out));
  EXPECT_TRUE(out.empty());
}

TEST(Redactor, OnlyTheConfiguredTypes) {
  RedactOptions o;
  o.types = Bit(PiiType::kEmail) | Bit(PiiType::kIp);
  Redactor r(o);
  EXPECT_EQ(Redacted(r, "ada@example.com 4111111111111111 10.1.2.3"),
            "[EMAIL] 4111111111111111 [IP]");
}

TEST(Redactor, PseudonymsAreKeyedHmacsOfTheNormalisedValue) {
  Redactor a(All(RedactMode::kPseudonym, "key-one"));
  Redactor b(All(RedactMode::kPseudonym, "key-two"));
  // Same value in other spellings: same pseudonym.
  EXPECT_EQ(a.Placeholder(PiiType::kEmail, "Ada@Example.COM"),
            a.Placeholder(PiiType::kEmail, "ada@example.com"));
  EXPECT_EQ(a.Placeholder(PiiType::kPhone, "(415) 555-2671"),
            a.Placeholder(PiiType::kPhone, "+1 415 555 2671"));
  EXPECT_EQ(a.Placeholder(PiiType::kCard, "4111-1111-1111-1111"),
            a.Placeholder(PiiType::kCard, "4111111111111111"));
  EXPECT_EQ(a.Placeholder(PiiType::kIban, "DE89 3704 0044 0532 0130 00"),
            a.Placeholder(PiiType::kIban, "DE89370400440532013000"));
  EXPECT_EQ(a.Placeholder(PiiType::kIp, "2001:0db8::0001"),
            a.Placeholder(PiiType::kIp, "2001:db8::1"));
  EXPECT_NE(a.Placeholder(PiiType::kEmail, "ada@example.com"),
            a.Placeholder(PiiType::kEmail, "bob@example.com"));
  // Another key: another pseudonym.
  EXPECT_NE(a.Placeholder(PiiType::kEmail, "ada@example.com"),
            b.Placeholder(PiiType::kEmail, "ada@example.com"));
  EXPECT_EQ(a.Normalize(PiiType::kPhone, "(415) 555-2671"), "+14155552671");
  // HMAC-SHA-256 keyed "key-one" over "ada@example.com", first 4 bytes, as
  // `printf %s ada@example.com | openssl dgst -sha256 -hmac key-one` prints them.
  EXPECT_EQ(a.Placeholder(PiiType::kEmail, "ada@example.com"), "[EMAIL:b2590d6a]");
}

TEST(Redactor, RedactingTwiceChangesNothing) {
  for (RedactMode mode : {RedactMode::kMask, RedactMode::kPseudonym}) {
    Redactor r(All(mode, "k"));
    const std::string once = Redacted(r, "ada@example.com, 090-1234-5678 and 192.168.0.1");
    std::string out;
    EXPECT_FALSE(r.Redact(once, &out)) << once << " -> " << out;
  }
}

TEST(Redactor, OutOfBudgetPhoneShapedNumbersAreMaskedUncheckedAndBareRunsKept) {
  RedactOptions o;
  o.types = Bit(PiiType::kPhone);
  Redactor r(o);
  const std::string text = "phone: 4155552671, or (100) 555-0110";  // valid in no region
  std::string out;
  RedactBudget plenty;
  EXPECT_TRUE(r.Redact(text, &out, &plenty));
  EXPECT_EQ(out, "phone: [PHONE], or (100) 555-0110");
  EXPECT_EQ(plenty.costly_checks, RedactBudget().costly_checks - 2);
  out.clear();
  RedactBudget spent{0};
  EXPECT_TRUE(r.Redact(text, &out, &spent));
  EXPECT_EQ(out, "phone: 4155552671, or [PHONE]");
}

TEST(Redactor, OptionsParseAndValidate) {
  EXPECT_EQ(*ParseRedactTypes("all"), kAllPiiTypes);
  EXPECT_EQ(*ParseRedactTypes(""), 0u);
  EXPECT_EQ(*ParseRedactTypes("email, ip"), Bit(PiiType::kEmail) | Bit(PiiType::kIp));
  EXPECT_FALSE(ParseRedactTypes("email,ssn").ok());
  EXPECT_FALSE(ParseRedactMode("hash").ok());
  EXPECT_FALSE(ParseRedactOptions("all", "pseudonym", nullptr).ok());
  EXPECT_FALSE(ParseRedactOptions("all", "pseudonym", "").ok());
  EXPECT_TRUE(ParseRedactOptions("all", "pseudonym", "k").ok());
  EXPECT_TRUE(
      ParseRedactOptions("", "pseudonym", nullptr).ok());  // nothing to redact: no key needed
  EXPECT_EQ(PiiTypesText(Bit(PiiType::kCard) | Bit(PiiType::kSecret)), "card,secret");
}

}  // namespace
}  // namespace omniflow::redact
