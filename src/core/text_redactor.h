// The seam through which the stored form is redacted: core builds every stored interaction
// (core/validate.h) and calls a TextRedactor, if it is given one, on each string it may redact;
// src/redact implements it. Core stays free of the detectors and their libraries.
#pragma once

#include <string>
#include <string_view>

namespace omniflow {

class TextRedactor {
 public:
  virtual ~TextRedactor() = default;
  // When `text` holds something to redact, appends the redacted text to `*out` and returns
  // true; otherwise appends nothing and returns false (the caller keeps `text` as it is).
  // `text` is valid UTF-8. Thread-safe.
  virtual bool Redact(std::string_view text, std::string* out) const = 0;
};

}  // namespace omniflow
