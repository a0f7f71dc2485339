// Text helpers shared by every AnalyticsStore backend: the normalised form of a user request
// (for "top requests"), UTF-8-safe truncation, and splitting a search string into terms.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace omniflow {

// Lower-cases ASCII letters, collapses runs of whitespace to one space, trims whitespace and
// trailing ". ! ? 。 ？ ！", and truncates to `max_chars` code points.
std::string NormalizeRequest(std::string_view text, size_t max_chars = 120);

// The longest prefix of `text` with at most `max_chars` code points (never splits a character).
std::string_view TruncateUtf8(std::string_view text, size_t max_chars);

// The number of code points in valid UTF-8 `text`.
size_t Utf8Length(std::string_view text);

// Search strings longer than this many bytes are refused.
inline constexpr size_t kMaxSearchBytes = 512;

// InvalidArgument when `q` is longer than kMaxSearchBytes; Ok otherwise.
Status CheckSearchText(std::string_view q);

// Whitespace-separated terms of a search string (empty terms dropped).
std::vector<std::string> SearchTerms(std::string_view q);

// Terms shorter than this many code points cannot use a trigram index.
inline constexpr size_t kMinIndexedTermChars = 3;

// Characters of a thread's first/last message returned in listings.
inline constexpr size_t kMessagePreviewChars = 160;

}  // namespace omniflow
