// The hand-written detectors: single-pass scanners over UTF-8 text, each starting only where
// its cheap trigger is (an '@', a digit, two capital letters and two digits, a known key
// prefix), then confirming by the value's own rule (Luhn, mod-97, inet_pton, a key's published
// format). Each appends what it finds to `*out`, in text order, never overlapping itself.
// Phone numbers are found by phone_detector.h. All are thread-safe and allocate only for `out`.
#pragma once

#include <string>
#include <string_view>

#include "redact/pii.h"

namespace omniflow::redact {

// local@domain.tld: a dot-atom local part (ASCII, or Latin letters), a domain of at least two
// labels whose last is 2-63 letters (or xn--) and not a file extension (icon@2x.png).
void FindEmails(std::string_view text, Spans* out);

// 13-19 digits, single spaces or dashes between groups, of a known issuer prefix and length, with
// a valid Luhn check digit, not part of a longer number.
void FindCards(std::string_view text, Spans* out);

// An IBAN (upper case, optionally in groups of four), of its country's length, whose mod-97
// check is 1.
void FindIbans(std::string_view text, Spans* out);

// IPv4 dotted quads and IPv6 addresses as inet_pton reads them, not part of a longer dotted
// number or word.
void FindIps(std::string_view text, Spans* out);

// API keys and tokens by their published formats: OpenAI sk-/sk-proj-, AWS AKIA/ASIA, GitHub
// ghp_/gho_/ghu_/ghs_/ghr_/github_pat_, Slack xox[abprs]-, Stripe sk_live_/sk_test_/rk_live_,
// Google AIza, JWTs (eyJ...), PEM private key blocks.
void FindSecrets(std::string_view text, Spans* out);

// True when `digits` (ASCII digits only) passes the Luhn check.
bool LuhnValid(std::string_view digits);
// True when `iban` (letters and digits only, upper case) has its country's length and a valid
// mod-97 check.
bool IbanValid(std::string_view iban);
// The canonical text form (inet_ntop) of the IPv4 or IPv6 address `text`, or empty.
std::string CanonicalIp(std::string_view text);

}  // namespace omniflow::redact
