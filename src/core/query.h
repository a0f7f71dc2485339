// Query-string parsing: percent-decoding, one value per name, and strict integer parameters.
// Everything here treats its input as hostile: bad escapes, repeated names and non-integers are
// InvalidArgument with a message naming the parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace omniflow {

class QueryParams {
 public:
  // Parses "a=1&b=x%20y" (the part after '?'). '+' decodes to a space. A name or value holding
  // a control character once decoded (%00, %0A, ...) is InvalidArgument.
  static Result<QueryParams> Parse(std::string_view query);
  // Parameters already decoded (e.g. the members of a JSON filter object), as Parse would
  // give them. A control character in a name or value is InvalidArgument, as in Parse.
  static Result<QueryParams> FromPairs(std::vector<std::pair<std::string, std::string>> pairs);

  // The decoded value of `name`, if present.
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return params_; }

  // `name` as an integer in [min, max]; `fallback` when absent. Only plain decimal digits
  // are accepted ("10", not "+10", "1e1", "10.0" or " 10").
  Result<int64_t> GetInt(std::string_view name, int64_t min, int64_t max, int64_t fallback) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// Decodes %XX escapes (and '+' as space when `plus_is_space`); false on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

}  // namespace omniflow
