#include "redact/redactor.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "redact/detectors.h"

namespace omniflow::redact {

namespace {

constexpr std::string_view kNames[kPiiTypeCount] = {"email", "phone", "card",
                                                    "iban",  "ip",    "secret"};
constexpr std::string_view kLabels[kPiiTypeCount] = {"EMAIL", "PHONE", "CARD",
                                                     "IBAN",  "IP",    "SECRET"};

std::vector<std::string> SplitRegions(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool IsHexLower(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Placeholders already in the text ("[EMAIL]", "[PHONE:1a2b3c4d]"): nothing inside them is
// found again.
std::vector<std::pair<size_t, size_t>> Placeholders(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t b = text.find('['); b != std::string_view::npos; b = text.find('[', b + 1)) {
    for (std::string_view label : kLabels) {
      if (text.compare(b + 1, label.size(), label) != 0) continue;
      size_t i = b + 1 + label.size();
      if (i < text.size() && text[i] == ']') {
        out.emplace_back(b, i + 1);
      } else if (i + 10 <= text.size() && text[i] == ':' && text[i + 9] == ']' &&
                 std::all_of(text.begin() + i + 1, text.begin() + i + 9, IsHexLower)) {
        out.emplace_back(b, i + 10);
      }
      break;
    }
  }
  return out;
}

// Higher wins when two spans of the same length overlap.
int Priority(PiiType type) {
  switch (type) {
    case PiiType::kSecret:
      return 6;
    case PiiType::kEmail:
      return 5;
    case PiiType::kIban:
      return 4;
    case PiiType::kCard:
      return 3;
    case PiiType::kIp:
      return 2;
    case PiiType::kPhone:
      return 1;
  }
  return 0;
}

}  // namespace

std::string_view PiiTypeName(PiiType type) { return kNames[static_cast<int>(type)]; }
std::string_view PiiTypeLabel(PiiType type) { return kLabels[static_cast<int>(type)]; }

std::optional<PiiType> PiiTypeFromName(std::string_view name) {
  for (int t = 0; t < kPiiTypeCount; ++t) {
    if (kNames[t] == name) return static_cast<PiiType>(t);
  }
  return std::nullopt;
}

Status RedactOptions::Validate() const {
  if (types != 0 && mode == RedactMode::kPseudonym && pseudonym_key.empty()) {
    return Status::InvalidArgument(
        "--redact-mode pseudonym needs a key: set OMNIFLOW_PSEUDONYM_KEY to a secret of your own "
        "(keep it: the same key gives the same pseudonyms)");
  }
  return Status::Ok();
}

Result<PiiTypes> ParseRedactTypes(std::string_view list) {
  if (list.empty() || list == "none") return PiiTypes{0};
  if (list == "all") return kAllPiiTypes;
  PiiTypes types = 0;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view word = list.substr(start, comma - start);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    std::optional<PiiType> type = PiiTypeFromName(word);
    if (word == "all") {
      types = kAllPiiTypes;
    } else if (!type) {
      return Status::InvalidArgument("--redact: unknown type \"" + std::string(word.substr(0, 32)) +
                                     "\"; use a comma list of email, phone, card, iban, ip, "
                                     "secret, or all");
    } else {
      types |= Bit(*type);
    }
    start = comma + 1;
  }
  return types;
}

Result<RedactMode> ParseRedactMode(std::string_view mode) {
  if (mode == "mask") return RedactMode::kMask;
  if (mode == "pseudonym") return RedactMode::kPseudonym;
  return Status::InvalidArgument("--redact-mode must be mask or pseudonym, not \"" +
                                 std::string(mode.substr(0, 32)) + "\"");
}

Result<RedactOptions> ParseRedactOptions(std::string_view types, std::string_view mode,
                                         const char* key) {
  RedactOptions options;
  Result<PiiTypes> parsed_types = ParseRedactTypes(types);
  if (!parsed_types.ok()) return parsed_types.status();
  Result<RedactMode> parsed_mode = ParseRedactMode(mode);
  if (!parsed_mode.ok()) return parsed_mode.status();
  options.types = *parsed_types;
  options.mode = *parsed_mode;
  if (key != nullptr) options.pseudonym_key = key;
  if (Status s = options.Validate(); !s.ok()) return s;
  return options;
}

std::string PiiTypesText(PiiTypes types) {
  std::string out;
  for (int t = 0; t < kPiiTypeCount; ++t) {
    if (!(types & (1u << t))) continue;
    if (!out.empty()) out.push_back(',');
    out.append(kNames[t]);
  }
  return out.empty() ? "none" : out;
}

Redactor::Redactor(RedactOptions options)
    : options_(std::move(options)), phones_(SplitRegions(options_.phone_regions)) {}

Result<std::unique_ptr<Redactor>> Redactor::Create(RedactOptions options) {
  if (Status s = options.Validate(); !s.ok()) return s;
  return std::make_unique<Redactor>(std::move(options));
}

Spans Redactor::Detect(std::string_view text, PiiTypes types, RedactBudget* budget) const {
  Spans found;
  if (text.size() < 6) return found;  // "a@b.co" is the shortest
  // Only the detectors of `types` run: overlaps are settled among the types redacted.
  if (types & Bit(PiiType::kSecret)) FindSecrets(text, &found);
  if (types & Bit(PiiType::kEmail)) FindEmails(text, &found);
  bool digits = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      digits = true;
      break;
    }
  }
  if (digits) {
    if (types & Bit(PiiType::kIban)) FindIbans(text, &found);
    if (types & Bit(PiiType::kCard)) FindCards(text, &found);
    if (types & Bit(PiiType::kIp)) FindIps(text, &found);
    if (types & Bit(PiiType::kPhone)) {
      phones_.Find(text, &found, budget != nullptr ? &budget->costly_checks : nullptr);
    }
  }
  if (found.empty()) return found;
  // Longest first among those starting at the same place; then the sweep keeps, of overlapping
  // spans, the longer (or the likelier type).
  std::sort(found.begin(), found.end(), [](const Span& a, const Span& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end > b.end;
  });
  Spans kept;
  for (const Span& s : found) {
    if (!kept.empty() && s.begin < kept.back().end) {
      Span& last = kept.back();
      size_t a = last.end - last.begin, b = s.end - s.begin;
      if (b > a || (b == a && Priority(s.type) > Priority(last.type))) last = s;
      continue;
    }
    kept.push_back(s);
  }
  std::vector<std::pair<size_t, size_t>> protect;
  if (text.find('[') != std::string_view::npos) protect = Placeholders(text);
  Spans out;
  for (const Span& s : kept) {
    if (!(types & Bit(s.type))) continue;
    bool inside = false;
    for (const auto& [b, e] : protect) inside = inside || (s.begin < e && b < s.end);
    if (!inside) out.push_back(s);
  }
  return out;
}

Spans Redactor::Find(std::string_view text) const { return Detect(text, options_.types, nullptr); }
Spans Redactor::FindAll(std::string_view text) const { return Detect(text, kAllPiiTypes, nullptr); }

bool Redactor::Redact(std::string_view text, std::string* out, RedactBudget* budget) const {
  if (options_.types == 0) return false;
  Spans spans = Detect(text, options_.types, budget);
  if (spans.empty()) return false;
  out->reserve(out->size() + text.size());
  size_t at = 0;
  for (const Span& s : spans) {
    out->append(text.substr(at, s.begin - at));
    out->append(PlaceholderWithin(s.type, text.substr(s.begin, s.end - s.begin), budget));
    at = s.end;
  }
  out->append(text.substr(at));
  return true;
}

std::string Redactor::Normalize(PiiType type, std::string_view value) const {
  std::string out;
  switch (type) {
    case PiiType::kEmail:
      out.assign(value);
      for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      return out;
    case PiiType::kPhone:
      out = phones_.E164(value);
      if (out.empty()) {
        for (char c : value) {
          if ((c >= '0' && c <= '9') || c == '+') out.push_back(c);
        }
      }
      return out;
    case PiiType::kCard:
    case PiiType::kIban:
      for (char c : value) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) out.push_back(c);
      }
      return out;
    case PiiType::kIp:
      out = CanonicalIp(value);
      if (out.empty()) out.assign(value);
      return out;
    case PiiType::kSecret:
      return std::string(value);
  }
  return std::string(value);
}

std::string Redactor::Placeholder(PiiType type, std::string_view value) const {
  return PlaceholderWithin(type, value, nullptr);
}

std::string Redactor::PlaceholderWithin(PiiType type, std::string_view value,
                                        RedactBudget* budget) const {
  std::string out = "[";
  out.append(PiiTypeLabel(type));
  if (options_.mode == RedactMode::kPseudonym) {
    std::string normal;
    if (type == PiiType::kPhone && budget != nullptr && budget->costly_checks-- <= 0) {
      for (char c : value) {
        if ((c >= '0' && c <= '9') || c == '+') normal.push_back(c);
      }
    } else {
      normal = Normalize(type, value);
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), options_.pseudonym_key.data(),
         static_cast<int>(options_.pseudonym_key.size()),
         reinterpret_cast<const unsigned char*>(normal.data()), normal.size(), mac, &length);
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back(':');
    for (int i = 0; i < 4; ++i) {
      out.push_back(kHex[mac[i] >> 4]);
      out.push_back(kHex[mac[i] & 15]);
    }
  }
  out.push_back(']');
  return out;
}

}  // namespace omniflow::redact
