// The Redactor: finds personal data in a text (e-mail addresses, phone numbers, card numbers,
// IBANs, IP addresses, API keys and tokens) and replaces each by a typed placeholder, "[EMAIL]"
// (mask mode) or "[EMAIL:8f3a2c1d]" (pseudonym mode: the first 8 hex digits of
// HMAC-SHA-256(key, normalised value), so that equal values give equal tokens). It is the
// TextRedactor that BuildInteraction applies to every stored interaction (core/validate.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/text_redactor.h"
#include "redact/phone_detector.h"
#include "redact/pii.h"

namespace omniflow::redact {

enum class RedactMode { kMask, kPseudonym };

struct RedactOptions {
  // What is redacted (--redact / OMNIFLOW_REDACT); 0: nothing, and no Redactor is made.
  PiiTypes types = 0;
  // --redact-mode: mask ("[EMAIL]") or pseudonym ("[EMAIL:8f3a2c1d]").
  RedactMode mode = RedactMode::kMask;
  // The HMAC key of pseudonym mode (OMNIFLOW_PSEUDONYM_KEY); required there, unused otherwise.
  std::string pseudonym_key;
  // Regions tried, in order, for phone numbers written without a country code.
  std::string phone_regions = kDefaultPhoneRegions;

  // InvalidArgument, saying what to set, when pseudonym mode has no key.
  Status Validate() const;
};

// "email,phone,...", "all", or "" / "none" (nothing): the types named; InvalidArgument naming
// the unknown word otherwise.
Result<PiiTypes> ParseRedactTypes(std::string_view list);
// "mask" or "pseudonym".
Result<RedactMode> ParseRedactMode(std::string_view mode);
// The options of --redact `types` and --redact-mode `mode`, the key read from `key` (the value of
// OMNIFLOW_PSEUDONYM_KEY, or null), validated.
Result<RedactOptions> ParseRedactOptions(std::string_view types, std::string_view mode,
                                         const char* key);
// "email,phone" or "none": the types of `types`, for the log.
std::string PiiTypesText(PiiTypes types);

class Redactor final : public TextRedactor {
 public:
  // REQUIRES: options.Validate() is ok.
  explicit Redactor(RedactOptions options);
  // Validates `options` first.
  static Result<std::unique_ptr<Redactor>> Create(RedactOptions options);

  // Every value of the configured types in `text`, in text order, never overlapping, none
  // inside a placeholder this redactor wrote (so redacting twice changes nothing).
  Spans Find(std::string_view text) const;
  // Spans of every type, whatever the options say (for the quality test).
  Spans FindAll(std::string_view text) const;

  using TextRedactor::Redact;
  bool Redact(std::string_view text, std::string* out, RedactBudget* budget) const override;

  // The normalised form of a found value: e-mail lower-cased; phone in E.164; card and IBAN
  // letters and digits, upper case; IP in its canonical text form; a secret as it is.
  std::string Normalize(PiiType type, std::string_view value) const;
  // "[EMAIL]", or "[EMAIL:8f3a2c1d]" in pseudonym mode.
  std::string Placeholder(PiiType type, std::string_view value) const;

  const RedactOptions& options() const { return options_; }

 private:
  Spans Detect(std::string_view text, PiiTypes types, RedactBudget* budget) const;
  // Placeholder(), spending from `budget` on a phone number's E.164 form (out of budget: its
  // digits and '+').
  std::string PlaceholderWithin(PiiType type, std::string_view value, RedactBudget* budget) const;

  RedactOptions options_;
  PhoneDetector phones_;
};

}  // namespace omniflow::redact
