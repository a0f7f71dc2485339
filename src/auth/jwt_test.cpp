#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace omniflow {
namespace {

constexpr char kSecret[] = "jwt-test-secret-0123456789abcdef";
constexpr int64_t kNow = 1'700'000'000;

// VerifyHs256 under `policy`, the defaults unless a test says otherwise.
Result<TokenClaims> Verify(std::string_view token, std::string_view secret, int64_t now,
                           const TokenPolicy& policy = TokenPolicy{}) {
  return VerifyHs256(token, secret, now, policy);
}

std::string Claims(const std::string& sub, int64_t exp) {
  return "{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(exp) + "}";
}

// A token with an arbitrary header, signed with HMAC-SHA256 under `secret`: what an attacker
// who knows (or guesses) the secret-independent parts could build, or a test of alg checks.
std::string SignWithHeader(const std::string& header_json, const std::string& payload_json,
                           const std::string& secret = kSecret) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." +
         Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), length));
}

// Expects `token` to be refused as Unauthenticated with a message containing `expected`, and
// the message not to echo the token or the secret.
void ExpectRefused(const std::string& token, const std::string& expected,
                   const std::string& secret = kSecret, const TokenPolicy& policy = TokenPolicy{}) {
  Result<TokenClaims> r = Verify(token, secret, kNow, policy);
  ASSERT_FALSE(r.ok()) << "accepted: " << expected;
  EXPECT_EQ(r.status().code(), Status::Code::kUnauthenticated) << r.status().message();
  EXPECT_NE(r.status().message().find(expected), std::string::npos)
      << "message: " << r.status().message() << ", expected: " << expected;
  EXPECT_EQ(r.status().message().find(secret), std::string::npos);
  if (token.size() >= 8) {
    EXPECT_EQ(r.status().message().find(token), std::string::npos);
  }
}

TEST(Base64Url, EncodesWithoutPaddingInUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
}

TEST(Base64Url, RoundTripsEveryLengthAndByte) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  for (size_t n = 0; n <= data.size(); ++n) {
    std::string encoded = Base64UrlEncode(data.substr(0, n));
    std::string decoded;
    ASSERT_TRUE(Base64UrlDecode(encoded, &decoded)) << n;
    EXPECT_EQ(decoded, data.substr(0, n)) << n;
  }
}

TEST(Base64Url, RoundTripsAcrossChunkBoundaries) {
  std::string data(100'000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 256);
  std::string decoded;
  ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(data), &decoded));
  EXPECT_EQ(decoded, data);
}

TEST(Base64Url, RejectsInvalidText) {
  std::string out = "stale";
  for (const char* bad :
       {"Zg==", "Zm8=", "Z", "Zm9vY", "Zm+v", "Zm/v", "Zm 9v", "Zm9v\n", "Zm.v", "Zh", "Zm9"}) {
    EXPECT_FALSE(Base64UrlDecode(bad, &out)) << bad;
    EXPECT_TRUE(out.empty()) << bad;
  }
  // "Zh" and "Zm9" carry non-zero spare bits: non-canonical spellings of "f" and "fo".
  ASSERT_TRUE(Base64UrlDecode("Zg", &out));
  EXPECT_EQ(out, "f");
  ASSERT_TRUE(Base64UrlDecode("Zm8", &out));
  EXPECT_EQ(out, "fo");
}

TEST(Jwt, SignThenVerifyRoundTrips) {
  std::string token = SignHs256(Claims("alice", kNow + 60), kSecret);
  EXPECT_EQ(token.substr(0, token.find('.')), Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})"));
  Result<TokenClaims> r = Verify(token, kSecret, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->sub, "alice");
  EXPECT_EQ(r->exp, kNow + 60);
}

TEST(Jwt, VerifiesTheRfc7515Hs256Example) {
  // RFC 7515 appendix A.1: an HS256 JWS by another implementation. It has no `sub`, so the
  // verdict "no subject" shows the signature and `exp` (1300819380) were both accepted first.
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  std::string key;
  ASSERT_TRUE(Base64UrlDecode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
      &key));
  Result<TokenClaims> r = Verify(token, key, 1300819379);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "token has no subject (sub)");
  EXPECT_EQ(Verify(token, key, 1300819380).status().message(), "token expired");
  EXPECT_EQ(Verify(token, "wrong", 1300819379).status().message(),
            "token signature is invalid");
}

TEST(Jwt, SignsLikeOtherImplementations) {
  // The jwt.io example token (HS256, secret "your-256-bit-secret"); it has no `exp`.
  const std::string jwt_io =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  EXPECT_EQ(SignWithHeader(R"({"alg":"HS256","typ":"JWT"})",
                           R"({"sub":"1234567890","name":"John Doe","iat":1516239022})",
                           "your-256-bit-secret"),
            jwt_io);
  EXPECT_EQ(Verify(jwt_io, "your-256-bit-secret", kNow).status().message(),
            "token has no expiry (exp)");
  // SignHs256 writes the same header, so its tokens match byte for byte.
  const std::string payload = R"({"sub":"1234567890","exp":1900000000})";
  EXPECT_EQ(SignHs256(payload, "your-256-bit-secret"),
            SignWithHeader(R"({"alg":"HS256","typ":"JWT"})", payload, "your-256-bit-secret"));
}

TEST(Jwt, AcceptsPastNbfAndIatAndIgnoresUnconfiguredAudAndIss) {
  std::string token = SignHs256("{\"sub\":\"bob\",\"exp\":" + std::to_string(kNow + 1) +
                                    ",\"nbf\":" + std::to_string(kNow) +
                                    ",\"iat\":1,\"aud\":\"x\",\"iss\":7}",
                                kSecret);
  Result<TokenClaims> r = Verify(token, kSecret, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exp, kNow + 1);
}

TEST(Jwt, RefusesExpiredToken) {
  ExpectRefused(SignHs256(Claims("alice", kNow - 1), kSecret), "token expired");
  // No leeway: a token is invalid at its exp second.
  ExpectRefused(SignHs256(Claims("alice", kNow), kSecret), "token expired");
}

TEST(Jwt, RefusesTokenWithoutNumericExp) {
  ExpectRefused(SignHs256(R"({"sub":"alice"})", kSecret), "no expiry (exp)");
  for (const char* exp : {"\"1900000000\"", "null", "true", "[1900000000]"}) {
    ExpectRefused(SignHs256(std::string(R"({"sub":"alice","exp":)") + exp + "}", kSecret),
                  "exp must be a non-negative integer number of seconds");
  }
}

// Issue 11: `exp: 1e308` was read as a double and accepted, a token that never expires.
TEST(Jwt, RefusesExp1e308) {
  ExpectRefused(SignHs256(R"({"sub":"alice","exp":1e308})", kSecret),
                "malformed token: exp must be a non-negative integer number of seconds");
}

TEST(Jwt, RefusesNonIntegerDates) {
  const std::string later = std::to_string(kNow + 60);
  const std::vector<std::string> non_integers = {
      later + ".5", later + ".0", "1.7e9", "1E10", "-1", "-0.5", "18446744073709551615",
      "9223372036854775808"};
  for (const std::string& bad : non_integers) {
    ExpectRefused(SignHs256("{\"sub\":\"a\",\"exp\":" + bad + "}", kSecret),
                  "exp must be a non-negative integer number of seconds");
    ExpectRefused(SignHs256("{\"sub\":\"a\",\"exp\":" + later + ",\"nbf\":" + bad + "}", kSecret),
                  "nbf must be a non-negative integer number of seconds");
    ExpectRefused(SignHs256("{\"sub\":\"a\",\"exp\":" + later + ",\"iat\":" + bad + "}", kSecret),
                  "iat must be a non-negative integer number of seconds");
  }
}

TEST(Jwt, RefusesExpBeyondTheMaxTtl) {
  // The default cap is a day: exactly a day is the last accepted second.
  Result<TokenClaims> r = Verify(SignHs256(Claims("alice", kNow + 86400), kSecret), kSecret, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exp, kNow + 86400);
  ExpectRefused(SignHs256(Claims("alice", kNow + 86401), kSecret),
                "token lives longer than the cap of 86400 seconds (OMNIFLOW_JWT_MAX_TTL)");
  ExpectRefused(SignHs256(Claims("alice", INT64_MAX), kSecret), "cap of 86400 seconds");

  TokenPolicy policy;
  policy.max_ttl_seconds = 600;
  EXPECT_TRUE(Verify(SignHs256(Claims("alice", kNow + 600), kSecret), kSecret, kNow, policy).ok());
  ExpectRefused(SignHs256(Claims("alice", kNow + 601), kSecret),
                "token lives longer than the cap of 600 seconds (OMNIFLOW_JWT_MAX_TTL)", kSecret,
                policy);
  // A cap is measured from now, not from iat: an old token near its end is fine.
  EXPECT_TRUE(Verify(SignHs256("{\"sub\":\"a\",\"iat\":1,\"exp\":" + std::to_string(kNow + 5) + "}",
                               kSecret),
                     kSecret, kNow, policy)
                  .ok());
}

TEST(Jwt, RefusesIatInTheFutureBeyondTheSkew) {
  auto token = [](int64_t iat) {
    return SignHs256("{\"sub\":\"a\",\"exp\":" + std::to_string(kNow + 3600) +
                         ",\"iat\":" + std::to_string(iat) + "}",
                     kSecret);
  };
  EXPECT_TRUE(Verify(token(kNow), kSecret, kNow).ok());
  EXPECT_TRUE(Verify(token(kNow + kMaxIatSkewSeconds), kSecret, kNow).ok());
  ExpectRefused(token(kNow + kMaxIatSkewSeconds + 1), "token is issued in the future (iat)");
}

std::string WithClaim(const std::string& name, const std::string& json_value) {
  return SignHs256("{\"sub\":\"alice\",\"exp\":" + std::to_string(kNow + 60) + ",\"" + name +
                       "\":" + json_value + "}",
                   kSecret);
}

TEST(Jwt, AudienceMustContainTheConfiguredOne) {
  TokenPolicy policy;
  policy.audience = "omniflow";
  for (const char* aud : {R"("omniflow")", R"(["omniflow"])", R"(["other","omniflow"])"}) {
    Result<TokenClaims> r = Verify(WithClaim("aud", aud), kSecret, kNow, policy);
    EXPECT_TRUE(r.ok()) << aud << ": " << r.status().message();
  }
  for (const char* aud : {R"("other")", R"("Omniflow")", R"("omniflow ")", R"(["other"])",
                          R"([])", R"("")"}) {
    ExpectRefused(WithClaim("aud", aud), "token audience (aud) does not match", kSecret, policy);
  }
  for (const char* aud : {"42", "null", R"({"aud":"omniflow"})", R"(["omniflow",1])", "[[\"omniflow\"]]"}) {
    ExpectRefused(WithClaim("aud", aud), "token audience (aud) must be a string or an array", kSecret,
                  policy);
  }
}

TEST(Jwt, AudienceIsRequiredWhenConfigured) {
  TokenPolicy policy;
  policy.audience = "omniflow";
  ExpectRefused(SignHs256(Claims("alice", kNow + 60), kSecret), "token audience (aud) is missing",
                kSecret, policy);
  // Without a configured audience the same token is fine.
  EXPECT_TRUE(Verify(SignHs256(Claims("alice", kNow + 60), kSecret), kSecret, kNow).ok());
}

TEST(Jwt, IssuerMustEqualTheConfiguredOne) {
  TokenPolicy policy;
  policy.issuer = "https://issuer.example";
  EXPECT_TRUE(Verify(WithClaim("iss", R"("https://issuer.example")"), kSecret, kNow, policy).ok());
  for (const char* iss : {R"("https://issuer.example/")", R"("https://other.example")", R"("")"}) {
    ExpectRefused(WithClaim("iss", iss), "token issuer (iss) does not match", kSecret, policy);
  }
  for (const char* iss : {"1", R"(["https://issuer.example"])", "null"}) {
    ExpectRefused(WithClaim("iss", iss), "token issuer (iss) must be a string", kSecret, policy);
  }
  ExpectRefused(SignHs256(Claims("alice", kNow + 60), kSecret), "token issuer (iss) is missing",
                kSecret, policy);
}

TEST(Jwt, AudienceAndIssuerMessagesNeverCarryTheirValues) {
  TokenPolicy policy;
  policy.audience = "expected-audience";
  policy.issuer = "expected-issuer";
  for (const std::string& token :
       {WithClaim("aud", R"("presented-audience")"), WithClaim("iss", R"("presented-issuer")")}) {
    Result<TokenClaims> r = Verify(token, kSecret, kNow, policy);
    ASSERT_FALSE(r.ok());
    for (const char* value :
         {"expected-audience", "expected-issuer", "presented-audience", "presented-issuer"}) {
      EXPECT_EQ(r.status().message().find(value), std::string::npos) << r.status().message();
    }
  }
}

TEST(Jwt, RefusesTokenNotYetValid) {
  ExpectRefused(SignHs256("{\"sub\":\"a\",\"exp\":" + std::to_string(kNow + 60) +
                              ",\"nbf\":" + std::to_string(kNow + 1) + "}",
                          kSecret),
                "not valid yet (nbf)");
  ExpectRefused(
      SignHs256("{\"sub\":\"a\",\"exp\":" + std::to_string(kNow + 60) + ",\"nbf\":\"soon\"}",
                kSecret),
      "nbf must be a non-negative integer number of seconds");
}

TEST(Jwt, RefusesFlippedSignatureCharacter) {
  std::string token = SignHs256(Claims("alice", kNow + 60), kSecret);
  std::string tampered = token;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  ExpectRefused(tampered, "token signature is invalid");
}

TEST(Jwt, RefusesTamperedPayload) {
  std::string token = SignHs256(Claims("alice", kNow + 60), kSecret);
  std::string other = SignHs256(Claims("mallory", kNow + 60), kSecret);
  // Mallory's payload with alice's signature.
  std::string spliced = token.substr(0, token.find('.')) + "." +
                        other.substr(other.find('.') + 1, other.rfind('.') - other.find('.') - 1) +
                        token.substr(token.rfind('.'));
  ExpectRefused(spliced, "token signature is invalid");
}

TEST(Jwt, RefusesWrongSecret) {
  ExpectRefused(SignHs256(Claims("alice", kNow + 60), "another-secret-entirely"),
                "token signature is invalid");
}

TEST(Jwt, RefusesTruncatedOrExtendedSignature) {
  std::string token = SignHs256(Claims("alice", kNow + 60), kSecret);
  std::string body = token.substr(0, token.rfind('.') + 1);
  std::string signature = token.substr(token.rfind('.') + 1);
  std::string raw;
  ASSERT_TRUE(Base64UrlDecode(signature, &raw));
  ExpectRefused(body + Base64UrlEncode(raw.substr(0, 16)), "token signature is invalid");
  ExpectRefused(body + Base64UrlEncode(raw + "x"), "token signature is invalid");
  ExpectRefused(body, "token signature is invalid");
}

TEST(Jwt, RefusesAlgNone) {
  std::string none = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                     Base64UrlEncode(Claims("alice", kNow + 60)) + ".";
  ExpectRefused(none, "token algorithm must be HS256");
}

TEST(Jwt, RefusesEveryOtherAlgorithmEvenWithAValidHmac) {
  for (const char* header :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"RS256"})", R"({"alg":"hs256"})",
        R"({"alg":"Hs256"})", R"({"alg":"HS256 "})", R"({"alg":"NONE"})", R"({"typ":"JWT"})",
        R"({"alg":null})", R"({"alg":["HS256"]})", R"({"alg":"HS256","alg":"HS256"})"}) {
    ExpectRefused(SignWithHeader(header, Claims("alice", kNow + 60)),
                  "token algorithm must be HS256");
  }
  // The control: the same construction with the right header is accepted.
  EXPECT_TRUE(
      Verify(SignWithHeader(R"({"alg":"HS256"})", Claims("alice", kNow + 60)), kSecret, kNow)
          .ok());
}

TEST(Jwt, RefusesCriticalHeaderExtensions) {
  ExpectRefused(SignWithHeader(R"({"alg":"HS256","crit":["exp"]})", Claims("alice", kNow + 60)),
                "critical extensions");
}

TEST(Jwt, ChecksAlgorithmBeforeSignature) {
  // A bad signature on an HS512 token is reported as the algorithm, proving the order.
  std::string token = Base64UrlEncode(R"({"alg":"HS512"})") + "." +
                      Base64UrlEncode(Claims("alice", kNow + 60)) + ".AAAA";
  ExpectRefused(token, "token algorithm must be HS256");
}

TEST(Jwt, RefusesMissingEmptyOrNonStringSub) {
  ExpectRefused(SignHs256("{\"exp\":" + std::to_string(kNow + 60) + "}", kSecret),
                "token has no subject (sub)");
  ExpectRefused(SignHs256(Claims("", kNow + 60), kSecret), "token has no subject (sub)");
  ExpectRefused(SignHs256("{\"sub\":42,\"exp\":" + std::to_string(kNow + 60) + "}", kSecret),
                "token has no subject (sub)");
  ExpectRefused(SignHs256("{\"sub\":null,\"exp\":" + std::to_string(kNow + 60) + "}", kSecret),
                "token has no subject (sub)");
}

TEST(Jwt, RefusesDuplicateClaims) {
  ExpectRefused(
      SignHs256("{\"sub\":\"alice\",\"sub\":\"bob\",\"exp\":" + std::to_string(kNow + 60) + "}",
                kSecret),
      "duplicate claim");
  for (const char* claim : {"aud", "iss", "iat"}) {
    ExpectRefused(SignHs256("{\"sub\":\"alice\",\"exp\":" + std::to_string(kNow + 60) + ",\"" +
                                claim + "\":1,\"" + claim + "\":2}",
                            kSecret),
                  "duplicate claim");
  }
}

TEST(Jwt, RefusesMalformedTokens) {
  std::string good = SignHs256(Claims("alice", kNow + 60), kSecret);
  std::string header = good.substr(0, good.find('.'));
  std::string payload = Base64UrlEncode(Claims("alice", kNow + 60));
  const std::vector<std::string> malformed = {
      "",
      "not.a.token",
      "onlyonepart",
      header + "." + payload,                                    // two parts
      good + ".extra",                                           // four parts
      "." + payload + ".sig",                                    // empty header
      header + "..sig",                                          // empty payload
      "e$J." + payload + ".sig",                                 // invalid base64 in the header
      header + "." + payload + ".sig+/",                         // standard, not url, alphabet
      header + "." + payload + ".c2ln=",                         // padding
      Base64UrlEncode("not json") + "." + payload + ".AAAA",     // non-JSON header
      Base64UrlEncode("[\"HS256\"]") + "." + payload + ".AAAA",  // header not an object
      Base64UrlEncode("{\"alg\":\"HS256\"") + "." + payload + ".AAAA",  // truncated JSON
  };
  for (const std::string& token : malformed) {
    Result<TokenClaims> r = Verify(token, kSecret, kNow);
    ASSERT_FALSE(r.ok()) << token;
    EXPECT_EQ(r.status().code(), Status::Code::kUnauthenticated) << token;
    EXPECT_EQ(r.status().message().rfind("malformed token", 0), 0u)
        << token << ": " << r.status().message();
  }
}

TEST(Jwt, RefusesSignedPayloadThatIsNotAJsonObject) {
  ExpectRefused(SignHs256("[1,2,3]", kSecret), "payload is not a JSON object");
  ExpectRefused(SignHs256("{\"sub\":", kSecret), "payload is not a JSON object");
  ExpectRefused(SignHs256("\xff\xfe", kSecret), "payload is not a JSON object");
}

TEST(Jwt, RefusesHugeTokenBeforeDecoding) {
  // A validly signed token over the size bound is still refused, by size.
  std::string big_claims = "{\"sub\":\"alice\",\"exp\":" + std::to_string(kNow + 60) +
                           ",\"pad\":\"" + std::string(9000, 'x') + "\"}";
  std::string token = SignHs256(big_claims, kSecret);
  ASSERT_GT(token.size(), 8192u);
  ExpectRefused(token, "malformed token: longer than 8192 bytes");
  ExpectRefused(std::string(1 << 20, 'a'), "longer than 8192 bytes");
}

TEST(Jwt, MessagesNeverCarryClaimValues) {
  Result<TokenClaims> r =
      Verify(SignHs256(Claims("secret-user-name", kNow - 5), kSecret), kSecret, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("secret-user-name"), std::string::npos);
}

}  // namespace
}  // namespace omniflow
