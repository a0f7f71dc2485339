// Small helpers to write JSON text directly into a std::string: string escaping and the
// canonical compact form of a parsed simdjson element. Responses are built by appending, so
// stored canonical JSON can be spliced in without re-serialising.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

namespace omniflow {

// Appends `text` as a quoted JSON string. `text` must be valid UTF-8 (validated input); control
// characters, quotes and backslashes are escaped.
void AppendJsonString(std::string* out, std::string_view text);

// Returns `text` as a quoted JSON string.
std::string JsonString(std::string_view text);

// Appends the compact canonical JSON of `element` (keys in input order, no whitespace).
void AppendJson(std::string* out, simdjson::dom::element element);

}  // namespace omniflow
