#include "redact/phone_detector.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumbermatch.h>
#include <phonenumbers/phonenumbermatcher.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>

namespace omniflow::redact {

const char kDefaultPhoneRegions[] = "US,GB,DE,FR,ES,IT,NL,JP,CN,IN,RU,BR,MX,AE,SA,EG,KR,AU";

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberMatch;
using i18n::phonenumbers::PhoneNumberMatcher;
using i18n::phonenumbers::PhoneNumberUtil;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsWordChar(char c) { return IsDigit(c) || IsAlpha(c) || c == '_'; }
bool IsSeparator(char c) {
  return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')';
}
bool IsNbsp(std::string_view text, size_t i) {
  return i + 1 < text.size() && text[i] == '\xC2' && text[i + 1] == '\xA0';
}

// Words after which a bare run of digits is a phone number.
constexpr std::array<std::string_view, 34> kPhoneWords = {
    "phone",     "Phone",    "PHONE",    "tel",   "Tel",     "TEL",     "call",
    "Call",      "mobile",   "Mobile",   "cell",  "fax",     "Fax",     "whatsapp",
    "WhatsApp",  "sms",      "SMS",      "Handy", "Telefon", "telefon", "portable",
    "téléphone", "teléfono", "telefono", "móvil", "movil",   "電話",    "携帯",
    "телефон",   "тел",      "هاتف",     "جوال",  "फोन",     "电话"};

bool IsAsciiLetter(char c) { return IsAlpha(c); }

// A phone word ending at most 40 bytes before `start`, at the start of a word ("Tel.", not the
// "tel" of "Bestellnummer" or "Hotel").
bool PhoneWordBefore(std::string_view text, size_t start) {
  size_t from = start > 40 ? start - 40 : 0;
  std::string_view before = text.substr(from, start - from);
  for (std::string_view word : kPhoneWords) {
    for (size_t at = before.find(word); at != std::string_view::npos;
         at = before.find(word, at + 1)) {
      const size_t abs = from + at;
      if (abs == 0 || !IsAsciiLetter(text[abs - 1]) || !IsAsciiLetter(word[0])) return true;
    }
  }
  return before.find("手机") != std::string_view::npos ||
         before.find("फ़ोन") != std::string_view::npos;
}

// Labels of numbers that are not phone numbers: "Order #", "Part no.", "n°", "订单号", ...
constexpr std::array<std::string_view, 41> kOtherNumberWords = {
    "no.",     "No.",      "nr.",     "Nr.",    "#",        "n°",       "N°",
    "№",       "order",    "Order",   "part",   "Part",     "invoice",  "Invoice",
    "ref",     "Ref",      "ticket",  "Ticket", "tracking", "Tracking", "Bestell",
    "Auftrag", "Rechnung", "ommande", "pedido", "Pedido",   "factura",  "Factura",
    "аказ",    "订单",     "注文",    "ISBN",   "IMEI",     "SKU",      "serial",
    "Serial",  "ZIP",      "PLZ",     "CA ",    "NY ",      "〒"};

// True when the number at `start` is labelled as another kind of number just before it.
bool OtherNumberWordBefore(std::string_view text, size_t start) {
  size_t from = start > 24 ? start - 24 : 0;
  std::string_view before = text.substr(from, start - from);
  for (std::string_view word : kOtherNumberWords) {
    if (before.find(word) != std::string_view::npos) return true;
  }
  return false;
}

// The digit groups of `c` and the separators between them (' ' for a no-break space).
void Groups(std::string_view c, std::vector<int>* sizes, std::string* separators) {
  int len = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (IsDigit(c[i])) {
      ++len;
      continue;
    }
    if (len > 0) {
      sizes->push_back(len);
      separators->push_back(c[i] == '\xC2' ? ' ' : c[i]);
    }
    len = 0;
    if (c[i] == '\xC2') ++i;
  }
  if (len > 0) sizes->push_back(len);
}

// "129.0.5086.197" (a version: dotted, with a one-digit group) or "80 069 328" (thousands: one
// or two digits, then groups of three).
bool LooksLikeVersionOrQuantity(std::string_view c) {
  std::vector<int> sizes;
  std::string separators;
  Groups(c, &sizes, &separators);
  if (sizes.size() < 3) return false;
  const bool dotted = separators.find_first_not_of('.') == std::string::npos;
  if (dotted && std::find(sizes.begin(), sizes.end(), 1) != sizes.end()) return true;
  if (sizes[0] > 2 || separators.find_first_not_of(" .") != std::string::npos) return false;
  return std::all_of(sizes.begin() + 1, sizes.end(), [](int s) { return s == 3; });
}

// "94103-1234": a US ZIP+4 code.
bool LooksLikeZipPlus4(std::string_view c) {
  if (c.size() != 10 || c[5] != '-') return false;
  for (size_t i = 0; i < c.size(); ++i) {
    if (i != 5 && !IsDigit(c[i])) return false;
  }
  return true;
}

// "2025-12-11", "11.12.2025", "12/11/25": a date, not a number.
bool LooksLikeDate(std::string_view c) {
  std::array<int, 4> groups{};
  int count = 0, len = 0;
  char sep = 0;
  for (char ch : c) {
    if (IsDigit(ch)) {
      ++len;
      continue;
    }
    if (ch != '-' && ch != '.' && ch != '/') return false;
    if (sep != 0 && ch != sep) return false;
    sep = ch;
    if (count >= 3) return false;
    groups[count++] = len;
    len = 0;
  }
  if (count != 2) return false;
  groups[2] = len;
  if (groups[0] == 4) return groups[1] <= 2 && groups[2] <= 2;
  return groups[0] <= 2 && groups[1] <= 2 && (groups[2] == 2 || groups[2] == 4);
}

// "192.168.1.20": four dot-separated groups of at most three digits.
bool LooksLikeDottedQuad(std::string_view c) {
  int dots = 0, len = 0;
  for (char ch : c) {
    if (ch == '.') {
      ++dots;
      if (len == 0 || len > 3) return false;
      len = 0;
    } else if (IsDigit(ch)) {
      ++len;
    } else {
      return false;
    }
  }
  return dots == 3 && len > 0 && len <= 3;
}

size_t Utf8Start(std::string_view text, size_t i) {
  while (i > 0 && i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
  return i;
}

struct Candidate {
  size_t begin, end;
  int digits;
  bool international;  // starts with + (or 00)
  bool bare;           // digits only
};

// The candidate starting at `i`, or one with digits == 0.
Candidate ScanCandidate(std::string_view text, size_t i) {
  const size_t n = text.size();
  Candidate c{i, i, 0, false, true};
  size_t j = i;
  if (text[j] == '+') {
    c.international = true;
    c.bare = false;
    ++j;
    if (j >= n || !(IsDigit(text[j]) || text[j] == '(' || text[j] == ' ')) return c;
  }
  int run_separators = 0;
  size_t last_digit_end = j;
  while (j < n) {
    char ch = text[j];
    if (IsDigit(ch)) {
      ++c.digits;
      run_separators = 0;
      ++j;
      last_digit_end = j;
      if (c.digits > 17) return Candidate{i, i, 0, false, true};
      continue;
    }
    size_t width = IsNbsp(text, j) ? 2 : (IsSeparator(ch) ? 1 : 0);
    if (width == 0 || ++run_separators > 2) break;
    j += width;
  }
  c.end = last_digit_end;
  for (size_t k = c.begin; k < c.end && c.bare; ++k) c.bare = IsDigit(text[k]);
  // A trailing ')' closes a group: keep it out, as the matcher does.
  if (!c.international && text.substr(c.begin, 2) == "00") c.international = true;
  return c;
}

}  // namespace

PhoneDetector::PhoneDetector(const std::vector<std::string>& regions) {
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  for (std::string r : regions.empty() ? std::vector<std::string>{"US"} : regions) {
    if (util->GetCountryCodeForRegion(r) == 0) continue;
    Region region{r, ""};
    std::string trunk;
    if (!util->IsNANPACountry(r)) util->GetNddPrefixForRegion(r, true, &trunk);
    bool always = !trunk.empty();
    for (auto type : {PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE}) {
      PhoneNumber example;
      std::string national;
      if (!util->GetExampleNumberForType(r, type, &example)) continue;
      util->Format(example, PhoneNumberUtil::NATIONAL, &national);
      std::string digits;
      for (char c : national) {
        if (IsDigit(c)) digits.push_back(c);
      }
      always = always && digits.compare(0, trunk.size(), trunk) == 0;
    }
    if (always) region.national_start = trunk;
    regions_.push_back(std::move(region));
  }
  if (regions_.empty()) regions_.push_back(Region{"US", ""});
}

bool PhoneDetector::RegionOf(std::string_view text, std::string* region) const {
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  const std::string number(text);
  PhoneNumber parsed;
  bool international = !text.empty() && (text[0] == '+' || text.substr(0, 2) == "00");
  if (international) {
    if (util->Parse(number, regions_[0].code, &parsed) == PhoneNumberUtil::NO_PARSING_ERROR &&
        util->IsValidNumber(parsed)) {
      *region = regions_[0].code;
      return true;
    }
    if (text[0] == '+') return false;
  }
  // Written nationally, a number must be written as its country writes it: with the trunk prefix
  // where the national format has one ("030 ...", "8 (495) ..."), without where it has none
  // (a Chinese mobile). A postal code or a parcel number that happens to be valid digits is not.
  // The North American plan's leading "1" is optional.
  std::string digits;
  for (char c : text) {
    if (IsDigit(c)) digits.push_back(c);
  }
  for (const Region& region_info : regions_) {
    const std::string& r = region_info.code;
    if (digits.compare(0, region_info.national_start.size(), region_info.national_start) != 0) {
      continue;
    }
    if (util->Parse(number, r, &parsed) != PhoneNumberUtil::NO_PARSING_ERROR ||
        !util->IsValidNumberForRegion(parsed, r)) {
      continue;
    }
    std::string national;
    util->Format(parsed, PhoneNumberUtil::NATIONAL, &national);
    std::string national_digits;
    for (char c : national) {
      if (IsDigit(c)) national_digits.push_back(c);
    }
    if (digits == national_digits || (util->IsNANPACountry(r) && digits == "1" + national_digits)) {
      *region = r;
      return true;
    }
  }
  return false;
}

void PhoneDetector::Find(std::string_view text, Spans* out, int* checks) const {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const char ch = text[i];
    if (!(IsDigit(ch) || ch == '+' || ch == '(')) {
      ++i;
      continue;
    }
    const char before = i > 0 ? text[i - 1] : ' ';
    Candidate c = ScanCandidate(text, i);
    if (c.digits == 0) {
      ++i;
      continue;
    }
    size_t next = std::max(c.end, i + 1);
    // Skip the rest of a run that cannot start here (a number inside a word or a longer one).
    if (IsWordChar(before) || before == '.' || before == ',' || before == '/' || before == '#' ||
        before == '=' || before == '$' || before == '-' || before == '+' || c.digits < 7 ||
        c.digits > 17) {
      while (next < n && (IsDigit(text[next]) || text[next] == '.' || text[next] == '-')) ++next;
      i = next;
      continue;
    }
    i = next;
    if (c.end < n) {
      char after = text[c.end];
      bool digit_next = c.end + 1 < n && IsDigit(text[c.end + 1]);
      if (IsWordChar(after) || ((after == ':' || after == ',' || after == '.') && digit_next)) {
        continue;
      }
    }
    std::string_view candidate = text.substr(c.begin, c.end - c.begin);
    if (LooksLikeDate(candidate) || LooksLikeDottedQuad(candidate) ||
        LooksLikeZipPlus4(candidate) ||
        (!c.international && LooksLikeVersionOrQuantity(candidate)) ||
        OtherNumberWordBefore(text, c.begin)) {
      continue;
    }
    if (c.bare && !c.international && !PhoneWordBefore(text, c.begin)) continue;
    // libphonenumber costs tens of microseconds per candidate (up to one parse per region):
    // past the budget, the rest are masked unchecked rather than stall the save.
    if (checks != nullptr && (*checks)-- <= 0) {
      if (!c.bare && c.digits <= 15) out->push_back(Span{c.begin, c.end, PiiType::kPhone});
      continue;
    }
    std::string region;
    if (!RegionOf(candidate, &region)) continue;
    // The matcher confirms it in its context (dates, times, page ranges, letters around it).
    const size_t from = Utf8Start(text, c.begin > 12 ? c.begin - 12 : 0);
    const size_t to = std::min(n, c.end + 8);
    const size_t to_start = Utf8Start(text, to);
    const size_t window_end = to < n ? to_start : n;
    const std::string window(text.substr(from, window_end - from));
    PhoneNumberMatcher matcher(*PhoneNumberUtil::GetInstance(), window, region,
                               PhoneNumberMatcher::VALID, 4);
    PhoneNumberMatch match;
    while (matcher.HasNext() && matcher.Next(&match)) {
      const size_t b = from + static_cast<size_t>(match.start());
      const size_t e = b + static_cast<size_t>(match.length());
      if (e <= c.begin || b >= c.end) continue;
      out->push_back(Span{std::min(b, c.begin), std::max(e, c.end), PiiType::kPhone});
      break;
    }
  }
}

std::string PhoneDetector::E164(std::string_view text) const {
  std::string region;
  if (!RegionOf(text, &region)) return {};
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util->Parse(std::string(text), region, &parsed) != PhoneNumberUtil::NO_PARSING_ERROR)
    return {};
  std::string e164;
  util->Format(parsed, PhoneNumberUtil::E164, &e164);
  return e164;
}

}  // namespace omniflow::redact
