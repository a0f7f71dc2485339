#include "redact/detectors.h"

#include <gtest/gtest.h>

#include "redact/phone_detector.h"

namespace omniflow::redact {
namespace {

// The found values of one detector, as text.
template <typename F>
std::vector<std::string> Found(F find, std::string_view text) {
  Spans spans;
  find(text, &spans);
  std::vector<std::string> out;
  for (const Span& s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

using V = std::vector<std::string>;

TEST(Detectors, EmailFindsAddressesInAnyScriptAround) {
  EXPECT_EQ(Found(FindEmails, "mail Ada.Lovelace+work@Example.co.uk, thanks"),
            V{"Ada.Lovelace+work@Example.co.uk"});
  EXPECT_EQ(Found(FindEmails, "連絡先はtaro.yamada@example.jpです"), V{"taro.yamada@example.jp"});
  EXPECT_EQ(Found(FindEmails, "écrivez à josé.müller@exämple.fr."), V{"josé.müller@exämple.fr"});
  EXPECT_EQ(Found(FindEmails, "<a@b.io> and (c_d@e-f.org)"), (V{"a@b.io", "c_d@e-f.org"}));
}

TEST(Detectors, EmailIgnoresHandlesAssetsAndVersions) {
  EXPECT_EQ(Found(FindEmails, "ping @alice or user@localhost"), V{});
  EXPECT_EQ(Found(FindEmails, "use icon@2x.png and logo@3x.webp"), V{});
  EXPECT_EQ(Found(FindEmails, "npm i react@18.2.0 @types/node"), V{});
  EXPECT_EQ(Found(FindEmails, "a@@b.com x@.com"), V{});
}

TEST(Detectors, CardNeedsLuhnAKnownIssuerAndCardGrouping) {
  EXPECT_EQ(Found(FindCards, "card 4111 1111 1111 1111 exp 12/27"), V{"4111 1111 1111 1111"});
  EXPECT_EQ(Found(FindCards, "4111-1111-1111-1111"), V{"4111-1111-1111-1111"});
  EXPECT_EQ(Found(FindCards, "amex 3782 822463 10005."), V{"3782 822463 10005"});
  EXPECT_EQ(Found(FindCards, "5555555555554444"), V{"5555555555554444"});
  EXPECT_EQ(Found(FindCards, "4111 1111 1111 1111 123"), V{"4111 1111 1111 1111"});
  EXPECT_EQ(Found(FindCards, "4111 1111 1111 1112"), V{});          // Luhn fails
  EXPECT_EQ(Found(FindCards, "IMEI 353918051234563"), V{});         // Luhn-valid, not a card
  EXPECT_EQ(Found(FindCards, "INT_4111111111111111"), V{});         // inside a word
  EXPECT_EQ(Found(FindCards, "41111-11111-11111-1"), V{});          // not printed as cards are
  EXPECT_EQ(Found(FindCards, "9400 1000 0000 0000 0000 00"), V{});  // a parcel number
}

TEST(Detectors, IbanNeedsItsCountrysLengthAndMod97) {
  EXPECT_EQ(Found(FindIbans, "IBAN: DE89 3704 0044 0532 0130 00."),
            V{"DE89 3704 0044 0532 0130 00"});
  EXPECT_EQ(Found(FindIbans, "GB82WEST12345698765432"), V{"GB82WEST12345698765432"});
  EXPECT_EQ(Found(FindIbans, "FR1420041010050500013M02606 ok"), V{"FR1420041010050500013M02606"});
  EXPECT_EQ(Found(FindIbans, "DE89 3704 0044 0532 0130 01"), V{});  // check fails
  EXPECT_EQ(Found(FindIbans, "DE89370400440532013000123"), V{});    // too long
  EXPECT_TRUE(IbanValid("NL91ABNA0417164300"));
  EXPECT_FALSE(IbanValid("NL91ABNA0417164301"));
}

TEST(Detectors, IpParsesV4AndV6AndSkipsVersions) {
  EXPECT_EQ(Found(FindIps, "from 192.168.1.20, then 10.0.0.1."), (V{"192.168.1.20", "10.0.0.1"}));
  EXPECT_EQ(Found(FindIps, "host [2001:db8::8a2e:370:7334]:443"), V{"2001:db8::8a2e:370:7334"});
  EXPECT_EQ(Found(FindIps, "fe80::1 and ::ffff:192.0.2.1"), (V{"fe80::1", "::ffff:192.0.2.1"}));
  EXPECT_EQ(Found(FindIps, "version 1.2.3.4.5, 10.0.19045.3570, v1.2.3.4, 256.1.1.1"), V{});
  EXPECT_EQ(Found(FindIps, "at 13:05:30, std::vector, mac 00:1A:2B:3C:4D:5E"), V{});
  EXPECT_EQ(CanonicalIp("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
}

TEST(Detectors, SecretsByPublishedFormats) {
  EXPECT_EQ(Found(FindSecrets, "key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t_uVw-xYz"),
            V{"sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t_uVw-xYz"});
  EXPECT_EQ(Found(FindSecrets, "AKIAIOSFODNN7EXAMPLE"), V{"AKIAIOSFODNN7EXAMPLE"});
  EXPECT_EQ(Found(FindSecrets, "token=ghp_aBcD3fGhIjKlMnOpQrStUvWxYz0123456789"),
            V{"ghp_aBcD3fGhIjKlMnOpQrStUvWxYz0123456789"});
  EXPECT_EQ(Found(FindSecrets, "xoxb-1234567890-abcdefghij"), V{"xoxb-1234567890-abcdefghij"});
  EXPECT_EQ(Found(FindSecrets, "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"),
            V{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"});
  const std::string pem =
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";
  EXPECT_EQ(Found(FindSecrets, "here: " + pem + " done"), V{pem});
  EXPECT_EQ(Found(FindSecrets, "sk-learn, task-force, risk-assessment-framework-v2, AKIA12"), V{});
  EXPECT_EQ(Found(FindSecrets, "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"), V{});
}

TEST(PhoneDetector, InternationalAndNationalFormats) {
  PhoneDetector phones({"US", "DE", "FR", "JP"});
  auto find = [&phones](std::string_view t, Spans* out) { phones.Find(t, out); };
  EXPECT_EQ(Found(find, "call +1 415-555-2671 today"), V{"+1 415-555-2671"});
  EXPECT_EQ(Found(find, "Tel. +49 30 901820"), V{"+49 30 901820"});
  EXPECT_EQ(Found(find, "(415) 555-2671"), V{"(415) 555-2671"});
  EXPECT_EQ(Found(find, "電話090-1234-5678まで"), V{"090-1234-5678"});
  EXPECT_EQ(Found(find, "appelez le 06 12 34 56 78"), V{"06 12 34 56 78"});
  EXPECT_EQ(phones.E164("(415) 555-2671"), "+14155552671");
  EXPECT_EQ(phones.E164("+49 30 901820"), "+4930901820");
}

TEST(PhoneDetector, NotDatesTimesIdsOrBareNumbers) {
  PhoneDetector phones({"US", "DE", "FR", "JP"});
  auto find = [&phones](std::string_view t, Spans* out) { phones.Find(t, out); };
  EXPECT_EQ(Found(find, "on 2025-12-11 13:05:30 and 11.12.2025"), V{});
  EXPECT_EQ(Found(find, "INT_20251211_130530_123456"), V{});
  EXPECT_EQ(Found(find, "order 4155552671 shipped"), V{});
  EXPECT_EQ(Found(find, "phone: 4155552671"), V{"4155552671"});
  EXPECT_EQ(Found(find, "server 192.168.100.200"), V{});
}

}  // namespace
}  // namespace omniflow::redact
