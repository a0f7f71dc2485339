// Finds phone numbers with libphonenumber. A cheap scan picks candidates first (a '+', '(' or
// digit starting a run of 7-17 digits with phone separators, not a date, time, dotted quad,
// version, thousands grouping or ZIP+4 code, not inside a word or a longer number); only those go
// to libphonenumber, which decides: international numbers (+CC or 00CC) by their country's
// metadata, national ones by the first of `regions` in which they are valid and written as that
// country writes them (with its trunk prefix where it has one: "030 ...", "8 (495) ..."),
// confirmed by its PhoneNumberMatcher (leniency VALID) over the candidate and its context. A
// number written as one bare run of digits counts only after a word such as "phone", "Tel.",
// "電話" or "телефон"; one labelled as another kind of number ("Order #", "Part no.", "n°",
// "订单号") does not count.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "redact/pii.h"

namespace omniflow::redact {

// The default regions for numbers written without a country code, most likely first.
extern const char kDefaultPhoneRegions[];

class PhoneDetector {
 public:
  // `regions`: ISO 3166 codes; unknown ones are dropped.
  explicit PhoneDetector(const std::vector<std::string>& regions);

  // Appends the phone numbers of `text` to `*out`, in text order. Each candidate checked with
  // libphonenumber takes one from `*checks` (null: no limit); with none left, the candidates
  // that have separators or a '+' count as phone numbers unchecked (privacy first), bare runs of
  // digits do not. Thread-safe.
  void Find(std::string_view text, Spans* out, int* checks = nullptr) const;

  // The E.164 form ("+14155552671") of a number Find found (`text` is its span), or empty.
  std::string E164(std::string_view text) const;

 private:
  // The region a number written as `text` is valid in ("" when it is international), or none.
  bool RegionOf(std::string_view text, std::string* region) const;

  struct Region {
    std::string code;
    // The digits every national number of the region starts with as written there (its trunk
    // prefix, when its fixed and mobile numbers are both written with it), or empty: a
    // candidate that does not start with them is not parsed for the region at all.
    std::string national_start;
  };
  std::vector<Region> regions_;
};

}  // namespace omniflow::redact
