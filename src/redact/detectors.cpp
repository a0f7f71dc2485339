#include "redact/detectors.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cstring>

namespace omniflow::redact {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsUpper(c) || IsLower(c); }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// A character that continues a word: a number or key next to one is part of something else.
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }

// A two-byte UTF-8 Latin letter (U+00C0..U+027F: à, é, ß, ł, ...) starting at `i`.
bool IsLatinPair(std::string_view text, size_t i) {
  if (i + 1 >= text.size()) return false;
  auto lead = static_cast<unsigned char>(text[i]);
  auto next = static_cast<unsigned char>(text[i + 1]);
  return lead >= 0xC3 && lead <= 0xC9 && next >= 0x80 && next <= 0xBF;
}

// ---- e-mail ---------------------------------------------------------------------------------

bool IsLocalSymbol(char c) { return std::strchr(".!#$%&'*+/=?^_`{|}~-", c) != nullptr && c != 0; }

// Endings that are file types, not top-level domains (icon@2x.png, logo@3x.webp).
bool IsFileExtension(std::string_view tld) {
  static constexpr std::array<std::string_view, 26> kExtensions = {
      "png",  "jpg", "jpeg", "gif",  "svg", "webp", "bmp", "ico",  "pdf",
      "txt",  "js",  "css",  "html", "htm", "json", "xml", "yaml", "yml",
      "lock", "exe", "dll",  "tsx",  "jsx", "mp4",  "mp3", "zip"};
  std::string lower(tld);
  for (char& c : lower) c = static_cast<char>(IsUpper(c) ? c - 'A' + 'a' : c);
  for (std::string_view e : kExtensions) {
    if (lower == e) return true;
  }
  return false;
}

// The end of the domain starting at `start`, or `start` when there is no valid domain there.
size_t ScanDomain(std::string_view text, size_t start) {
  size_t i = start;
  size_t labels = 0;
  size_t last_label = start, end = start;
  while (true) {
    size_t label = i;
    while (i < text.size()) {
      if (IsAlnum(text[i]) || text[i] == '-') {
        ++i;
      } else if (IsLatinPair(text, i)) {
        i += 2;
      } else {
        break;
      }
    }
    if (i == label || text[label] == '-' || text[i - 1] == '-' || i - label > 63) break;
    ++labels;
    last_label = label;
    end = i;
    if (i + 1 < text.size() && text[i] == '.' &&
        (IsAlnum(text[i + 1]) || IsLatinPair(text, i + 1))) {
      ++i;
      continue;
    }
    break;
  }
  if (labels < 2) return start;
  std::string_view tld = text.substr(last_label, end - last_label);
  bool letters = tld.size() >= 2;
  for (char c : tld) letters = letters && IsAlpha(c);
  bool idn = tld.size() > 4 && (tld.substr(0, 4) == "xn--" || tld.substr(0, 4) == "XN--");
  if ((!letters && !idn) || IsFileExtension(tld)) return start;
  return end;
}

// ---- numbers --------------------------------------------------------------------------------

// A run of digits with single spaces or dashes between them, from `start` (a digit).
struct DigitRun {
  size_t end = 0;
  std::string digits;
  std::vector<size_t> group_ends;  // digit counts at the end of each group
  std::vector<size_t> byte_ends;   // byte offsets of the end of each group
};

// Whether a run with `digits` digits so far, stopped at `i`, goes on: a single space or dash
// followed by a digit, up to 24 digits.
bool RunContinues(std::string_view text, size_t i, size_t digits) {
  return i + 1 < text.size() && (text[i] == ' ' || text[i] == '-') && IsDigit(text[i + 1]) &&
         digits <= 24;
}

// How many digits the run from `start` holds, and where it ends: what ScanDigitRun would find,
// without building it (most runs in text are dates, times and counts, far shorter than a card).
size_t CountRunDigits(std::string_view text, size_t start, size_t* end) {
  size_t i = start, digits = 0;
  while (true) {
    while (i < text.size() && IsDigit(text[i])) {
      ++digits;
      ++i;
    }
    if (RunContinues(text, i, digits)) {
      ++i;
      continue;
    }
    break;
  }
  *end = i;
  return digits;
}

DigitRun ScanDigitRun(std::string_view text, size_t start) {
  DigitRun run;
  size_t i = start;
  while (true) {
    while (i < text.size() && IsDigit(text[i])) run.digits.push_back(text[i++]);
    run.group_ends.push_back(run.digits.size());
    run.byte_ends.push_back(i);
    if (RunContinues(text, i, run.digits.size())) {
      ++i;
      continue;
    }
    break;
  }
  run.end = i;
  return run;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

int PrefixNumber(std::string_view digits, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n && i < digits.size(); ++i) v = v * 10 + (digits[i] - '0');
  return v;
}

// Issuer prefixes and lengths of the card networks (Visa, Mastercard, Mir, Amex, Diners, JCB,
// Discover, UnionPay, Maestro, RuPay). Only Visa issues 13 digits still.
bool KnownCardPrefix(std::string_view d) {
  const size_t n = d.size();
  const int p2 = PrefixNumber(d, 2), p3 = PrefixNumber(d, 3), p4 = PrefixNumber(d, 4);
  if (d[0] == '4') return n == 13 || n == 16 || n == 19;
  if (p2 >= 51 && p2 <= 55) return n == 16;
  if (p4 >= 2221 && p4 <= 2720) return n == 16;
  if (p4 >= 2200 && p4 <= 2204) return n >= 16;
  if (p2 == 34 || p2 == 37) return n == 15;
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return n >= 14;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16;
  if (p2 == 50 || (p2 >= 56 && p2 <= 69)) return n >= 16;
  if (p2 == 81 || p2 == 82) return n == 16;
  return false;
}

// Groups as cards are printed: all fours (the last may be shorter), 4-6-5 or 4-6-4.
bool CardGrouping(const std::vector<size_t>& ends, size_t count) {
  std::vector<size_t> sizes;
  size_t prev = 0;
  for (size_t e : ends) {
    if (e > count) break;
    sizes.push_back(e - prev);
    prev = e;
  }
  if (sizes.size() == 1) return true;
  if (sizes.size() == 3 && sizes[0] == 4 && sizes[1] == 6 && (sizes[2] == 5 || sizes[2] == 4)) {
    return true;
  }
  for (size_t k = 0; k + 1 < sizes.size(); ++k) {
    if (sizes[k] != 4) return false;
  }
  return sizes.back() >= 1 && sizes.back() <= 4;
}

// ---- IBAN -----------------------------------------------------------------------------------

struct IbanCountry {
  char code[3];
  uint8_t length;
};

// The IBAN registry (SWIFT, ISO 13616): country and IBAN length.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
    {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
    {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
    {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28},
    {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

int IbanLength(char a, char b) {
  for (const IbanCountry& c : kIbanCountries) {
    if (c.code[0] == a && c.code[1] == b) return c.length;
  }
  return 0;
}

// ---- IP -------------------------------------------------------------------------------------

bool ParseIp(std::string_view text, bool v6, unsigned char* bytes) {
  char buffer[64];
  if (text.empty() || text.size() >= sizeof buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  return ::inet_pton(v6 ? AF_INET6 : AF_INET, buffer, bytes) == 1;
}

void FindIpv4(std::string_view text, Spans* out) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    size_t end = i;
    int dots = 0;
    while (end < n && (IsDigit(text[end]) || text[end] == '.')) dots += text[end++] == '.';
    i = end;
    bool before_ok = start == 0 || !(IsWordChar(text[start - 1]) || text[start - 1] == '.' ||
                                     text[start - 1] == ':' || text[start - 1] == '-');
    size_t stop = end;
    if (text[stop - 1] == '.') {  // the end of a sentence
      --stop;
      --dots;
    }
    bool after_ok = end >= n || !IsWordChar(text[end]);
    if (!before_ok || !after_ok || dots != 3) continue;
    unsigned char bytes[16];
    if (ParseIp(text.substr(start, stop - start), false, bytes)) {
      out->push_back(Span{start, stop, PiiType::kIp});
    }
  }
}

void FindIpv6(std::string_view text, Spans* out) {
  const size_t n = text.size();
  size_t from = 0;
  size_t last_end = 0;
  while (true) {
    size_t colon = text.find(':', from);
    if (colon == std::string_view::npos) return;
    if (colon < last_end) {
      from = last_end;
      continue;
    }
    size_t start = colon, end = colon;
    while (start > last_end &&
           (IsHex(text[start - 1]) || text[start - 1] == ':' || text[start - 1] == '.')) {
      --start;
    }
    while (end < n && (IsHex(text[end]) || text[end] == ':' || text[end] == '.')) ++end;
    from = end;
    last_end = end;
    while (start < end && text[start] == '.') ++start;
    size_t stop = end;
    while (stop > start && (text[stop - 1] == '.' || text[stop - 1] == ':') &&
           !(stop - start >= 2 && text[stop - 2] == ':' && text[stop - 1] == ':')) {
      --stop;
    }
    bool before_ok = start == 0 || !IsWordChar(text[start - 1]);
    bool after_ok = end >= n || !IsWordChar(text[end]);
    if (!before_ok || !after_ok) continue;
    std::string_view candidate = text.substr(start, stop - start);
    int colons = 0;
    bool hex = false;
    for (char c : candidate) {
      colons += c == ':';
      hex = hex || IsHex(c);
    }
    if (colons < 2 || !hex) continue;
    unsigned char bytes[16];
    if (ParseIp(candidate, true, bytes)) out->push_back(Span{start, stop, PiiType::kIp});
  }
}

// ---- secrets --------------------------------------------------------------------------------

enum CharSet { kBase62, kBase64Url, kSlack, kUnderscored, kUpperDigits };

bool InSet(char c, CharSet set) {
  switch (set) {
    case kBase62:
      return IsAlnum(c);
    case kBase64Url:
      return IsAlnum(c) || c == '_' || c == '-';
    case kSlack:
      return IsAlnum(c) || c == '-';
    case kUnderscored:
      return IsAlnum(c) || c == '_';
    case kUpperDigits:
      return IsUpper(c) || IsDigit(c);
  }
  return false;
}

size_t ScanSet(std::string_view text, size_t i, CharSet set) {
  while (i < text.size() && InSet(text[i], set)) ++i;
  return i;
}

struct TokenFormat {
  std::string_view prefix;
  CharSet body;
  size_t min_body;
  size_t max_body;   // 0: no limit
  bool needs_digit;  // the body must hold a digit (tells keys from hyphenated words)
};

// Published formats of API keys and tokens; longer prefixes before their own prefixes.
constexpr TokenFormat kTokens[] = {
    {"sk-proj-", kBase64Url, 20, 0, false},
    {"sk-ant-", kBase64Url, 20, 0, false},
    {"sk-", kBase64Url, 20, 0, true},
    {"sk_live_", kBase62, 16, 0, false},
    {"sk_test_", kBase62, 16, 0, false},
    {"rk_live_", kBase62, 16, 0, false},
    {"rk_test_", kBase62, 16, 0, false},
    {"AKIA", kUpperDigits, 16, 16, false},
    {"ASIA", kUpperDigits, 16, 16, false},
    {"ghp_", kBase62, 30, 0, false},
    {"gho_", kBase62, 30, 0, false},
    {"ghu_", kBase62, 30, 0, false},
    {"ghs_", kBase62, 30, 0, false},
    {"ghr_", kBase62, 30, 0, false},
    {"github_pat_", kUnderscored, 50, 0, false},
    {"xoxb-", kSlack, 10, 0, true},
    {"xoxa-", kSlack, 10, 0, true},
    {"xoxp-", kSlack, 10, 0, true},
    {"xoxr-", kSlack, 10, 0, true},
    {"xoxs-", kSlack, 10, 0, true},
    {"AIza", kBase64Url, 30, 0, false},
};

// The end of a JWT (header.payload.signature) starting at `i` ("eyJ"), or `i`.
size_t ScanJwt(std::string_view text, size_t i) {
  size_t a = ScanSet(text, i, kBase64Url);
  if (a - i < 10 || a >= text.size() || text[a] != '.') return i;
  size_t b = ScanSet(text, a + 1, kBase64Url);
  if (b - (a + 1) < 10 || b >= text.size() || text[b] != '.') return i;
  return ScanSet(text, b + 1, kBase64Url);
}

// The end of a PEM private key block starting at `i` ("-----BEGIN "), or `i`.
size_t ScanPem(std::string_view text, size_t i) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  size_t header_end = text.find("-----", i + kBegin.size());
  if (header_end == std::string_view::npos || header_end - i > 64) return i;
  std::string_view label = text.substr(i + kBegin.size(), header_end - i - kBegin.size());
  if (label.size() < 11 || label.substr(label.size() - 11) != "PRIVATE KEY") return i;
  size_t end = text.find("-----END ", header_end + 5);
  if (end == std::string_view::npos) return text.size();  // cut off: still a key
  size_t close = text.find("-----", end + 9);
  return close == std::string_view::npos ? text.size() : close + 5;
}

}  // namespace

void FindEmails(std::string_view text, Spans* out) {
  size_t last_end = 0;
  for (size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    if (at < last_end || at == 0) continue;
    size_t b = at;
    while (b > last_end) {
      char c = text[b - 1];
      if (IsAlnum(c) || IsLocalSymbol(c)) {
        --b;
      } else if (b >= 2 && IsLatinPair(text, b - 2)) {
        b -= 2;
      } else {
        break;
      }
    }
    // A local part starts with a letter, digit or '_' (not a quote or bracket around it).
    while (b < at && !(IsAlnum(text[b]) || text[b] == '_' || IsLatinPair(text, b))) ++b;
    if (b == at || at - b > 64 || text[at - 1] == '.') continue;
    size_t end = ScanDomain(text, at + 1);
    if (end == at + 1) continue;
    out->push_back(Span{b, end, PiiType::kEmail});
    last_end = end;
  }
}

void FindCards(std::string_view text, Spans* out) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    if (CountRunDigits(text, start, &i) < 13) continue;
    DigitRun run = ScanDigitRun(text, start);
    char before = start > 0 ? text[start - 1] : ' ';
    if (IsWordChar(before) || before == '+' || before == '.' || before == ',' || before == '/' ||
        before == '-') {
      continue;
    }
    // The longest prefix ending at a group boundary that is a card: a card followed by its
    // expiry or code ("4111 1111 1111 1111 12/27") is still found.
    for (size_t g = run.group_ends.size(); g-- > 0;) {
      const size_t count = run.group_ends[g];
      if (count < 13) break;
      if (count > 19) continue;
      const size_t end = run.byte_ends[g];
      bool tail_ok =
          end >= n || !(IsWordChar(text[end]) || ((text[end] == '.' || text[end] == ',') &&
                                                  end + 1 < n && IsDigit(text[end + 1])));
      std::string_view digits(run.digits.data(), count);
      if (!tail_ok || !KnownCardPrefix(digits) || !CardGrouping(run.group_ends, count) ||
          !LuhnValid(digits)) {
        continue;
      }
      out->push_back(Span{start, end, PiiType::kCard});
      break;
    }
  }
}

void FindIbans(std::string_view text, Spans* out) {
  const size_t n = text.size();
  for (size_t i = 0; i + 15 <= n; ++i) {
    if (!IsUpper(text[i]) || !IsUpper(text[i + 1]) || !IsDigit(text[i + 2]) ||
        !IsDigit(text[i + 3]) || (i > 0 && IsWordChar(text[i - 1]))) {
      continue;
    }
    const int length = IbanLength(text[i], text[i + 1]);
    if (length == 0) continue;
    std::string iban;
    size_t j = i;
    while (j < n && static_cast<int>(iban.size()) < length) {
      if (IsUpper(text[j]) || IsDigit(text[j])) {
        iban.push_back(text[j++]);
      } else if (text[j] == ' ' && j + 1 < n && (IsUpper(text[j + 1]) || IsDigit(text[j + 1])) &&
                 iban.size() % 4 == 0) {
        ++j;
      } else {
        break;
      }
    }
    if (static_cast<int>(iban.size()) != length || (j < n && IsWordChar(text[j]))) continue;
    if (!IbanValid(iban)) continue;
    out->push_back(Span{i, j, PiiType::kIban});
    i = j - 1;
  }
}

void FindIps(std::string_view text, Spans* out) {
  Spans v4, v6;
  if (text.find('.') != std::string_view::npos) FindIpv4(text, &v4);
  if (text.find(':') != std::string_view::npos) FindIpv6(text, &v6);
  // Both in text order (an IPv4-mapped IPv6 address holds a dotted quad: the longer wins).
  size_t a = 0, b = 0;
  while (a < v4.size() || b < v6.size()) {
    if (b >= v6.size() || (a < v4.size() && v4[a].end <= v6[b].begin)) {
      out->push_back(v4[a++]);
    } else if (a >= v4.size() || v6[b].end <= v4[a].begin) {
      out->push_back(v6[b++]);
    } else {
      ++a;  // inside the IPv6 address
    }
  }
}

void FindSecrets(std::string_view text, Spans* out) {
  // The places where a format's first two characters occur, found with a table of byte pairs
  // (a branch per byte that is almost never taken: a loop that tests characters one by one
  // cost more than all the other detectors together), then checked in order.
  static const std::bitset<65536> kPairs = [] {
    std::bitset<65536> pairs;
    for (std::string_view start : {"sk", "rk", "AK", "AS", "AI", "gh", "gi", "xo", "ey", "--"}) {
      pairs.set(static_cast<unsigned char>(start[0]) << 8 | static_cast<unsigned char>(start[1]));
    }
    return pairs;
  }();
  std::vector<size_t> starts;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    const unsigned pair =
        static_cast<unsigned char>(text[i]) << 8 | static_cast<unsigned char>(text[i + 1]);
    if (kPairs[pair]) [[unlikely]]
      starts.push_back(i);
  }
  if (starts.empty()) return;
  const size_t n = text.size();
  size_t last_end = 0;
  for (size_t i : starts) {
    const char c = text[i];
    // Keys start a word; PEM blocks start anywhere.
    if (i < last_end || (c != '-' && i > 0 && (IsWordChar(text[i - 1]) || text[i - 1] == '-'))) {
      continue;
    }
    size_t end = i;
    if (c == '-') {
      if (StartsWith(text.substr(i), "-----BEGIN ")) end = ScanPem(text, i);
    } else if (c == 'e') {
      if (StartsWith(text.substr(i), "eyJ")) end = ScanJwt(text, i);
    } else {
      std::string_view rest = text.substr(i);
      for (const TokenFormat& f : kTokens) {
        if (f.prefix[0] != c || !StartsWith(rest, f.prefix)) continue;
        const size_t body = i + f.prefix.size();
        const size_t stop = ScanSet(text, body, f.body);
        const size_t size = stop - body;
        bool digit = false;
        for (size_t k = body; k < stop && !digit; ++k) digit = IsDigit(text[k]);
        if (size >= f.min_body && (f.max_body == 0 || size <= f.max_body) &&
            (!f.needs_digit || digit) && (stop >= n || !IsWordChar(text[stop]))) {
          end = stop;
        }
        break;
      }
    }
    if (end > i) {
      out->push_back(Span{i, end, PiiType::kSecret});
      last_end = end;
    }
  }
}

bool LuhnValid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (size_t k = digits.size(); k-- > 0;) {
    int d = digits[k] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return !digits.empty() && sum % 10 == 0;
}

bool IbanValid(std::string_view iban) {
  if (iban.size() < 15 || iban.size() > 34) return false;
  if (IbanLength(iban[0], iban[1]) != static_cast<int>(iban.size())) return false;
  int remainder = 0;
  for (size_t k = 0; k < iban.size(); ++k) {
    char c = iban[(k + 4) % iban.size()];
    if (IsDigit(c)) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else if (IsUpper(c)) {
      remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

std::string CanonicalIp(std::string_view text) {
  unsigned char bytes[16];
  char buffer[INET6_ADDRSTRLEN];
  bool v6 = text.find(':') != std::string_view::npos;
  if (!ParseIp(text, v6, bytes)) return {};
  if (::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, buffer, sizeof buffer) == nullptr) return {};
  return buffer;
}

}  // namespace omniflow::redact
