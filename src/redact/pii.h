// The kinds of personal data the redactor finds, and a found span: where it is in the text and
// of which kind. Shared by the detectors, the redactor and their tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace omniflow::redact {

enum class PiiType : uint8_t { kEmail = 0, kPhone, kCard, kIban, kIp, kSecret };
inline constexpr int kPiiTypeCount = 6;

// "email", "phone", "card", "iban", "ip", "secret": the names of --redact.
std::string_view PiiTypeName(PiiType type);
// "EMAIL", ...: the placeholder's word.
std::string_view PiiTypeLabel(PiiType type);
// The type named `name` (as PiiTypeName writes it), or none.
std::optional<PiiType> PiiTypeFromName(std::string_view name);

// A set of types as bits (1 << type).
using PiiTypes = unsigned;
inline constexpr PiiTypes kAllPiiTypes = (1u << kPiiTypeCount) - 1;
inline constexpr PiiTypes Bit(PiiType type) { return 1u << static_cast<unsigned>(type); }

// Bytes [begin, end) of the scanned text.
struct Span {
  size_t begin = 0;
  size_t end = 0;
  PiiType type = PiiType::kEmail;
};

using Spans = std::vector<Span>;

}  // namespace omniflow::redact
