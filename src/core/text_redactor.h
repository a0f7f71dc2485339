// The seam through which the stored form is redacted: core builds every stored interaction
// (core/validate.h) and calls a TextRedactor, if it is given one, on each string it may redact;
// src/redact implements it. Core stays free of the detectors and their libraries.
#pragma once

#include <string>
#include <string_view>

namespace omniflow {

// What one record may spend on a redactor's costly checks (libphonenumber's, tens of
// microseconds each), shared by all its strings: a body crafted with thousands of number-shaped
// strings costs no more than this. A redactor out of budget falls back to its cheap rules.
struct RedactBudget {
  int costly_checks = 32;  // left
};

class TextRedactor {
 public:
  virtual ~TextRedactor() = default;
  // When `text` holds something to redact, appends the redacted text to `*out` and returns
  // true; otherwise appends nothing and returns false (the caller keeps `text` as it is).
  // `text` is valid UTF-8. Spends from `*budget`. Thread-safe.
  virtual bool Redact(std::string_view text, std::string* out, RedactBudget* budget) const = 0;
  // The same with a budget of its own.
  bool Redact(std::string_view text, std::string* out) const {
    RedactBudget budget;
    return Redact(text, out, &budget);
  }
};

}  // namespace omniflow
