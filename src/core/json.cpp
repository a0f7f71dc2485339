#include "core/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace omniflow {

namespace {

// True when one of the 8 bytes of `w` is below 0x20, '"' or '\\' (may also be true, harmlessly,
// for a clean word only after a byte that really needs escaping; never false for such a word).
inline bool NeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  return ((w - kOnes * 0x20) & ~w & kHigh) | has_zero(w ^ (kOnes * '"')) |
         has_zero(w ^ (kOnes * '\\'));
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + text.size() + 2);
  out->push_back('"');
  const char* data = text.data();
  const size_t n = text.size();
  size_t run_start = 0;
  size_t i = 0;
  while (i < n) {
    // Clean stretches are copied in one append, found 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, data + i, 8);
      if (NeedsEscape(w)) break;
      i += 8;
    }
    for (const size_t end = std::min(n, i + 8); i < end; ++i) {
      unsigned char c = static_cast<unsigned char>(data[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out->append(data + run_start, i - run_start);
      run_start = i + 1;
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        default: {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out->append(esc, 6);
        }
      }
    }
  }
  out->append(data + run_start, n - run_start);
  out->push_back('"');
}

void JsonWriter::Quoted(std::string_view text, char suffix) {
  constexpr size_t kShort = 64;
  const size_t n = text.size();
  if (n <= kShort) {
    // Checked 8 bytes at a time, copied with one memcpy, appended at once.
    bool clean = true;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, text.data() + i, 8);
      if (NeedsEscape(w)) {
        clean = false;
        break;
      }
    }
    for (; clean && i < n; ++i) {
      const auto u = static_cast<unsigned char>(text[i]);
      clean = u >= 0x20 && u != '"' && u != '\\';
    }
    if (clean) {
      char buffer[kShort + 4];
      size_t k = 0;
      if (need_comma_) buffer[k++] = ',';
      buffer[k++] = '"';
      if (n > 0) std::memcpy(buffer + k, text.data(), n);  // an empty view's data() may be null
      k += n;
      buffer[k++] = '"';
      if (suffix != '\0') buffer[k++] = suffix;
      out_->append(buffer, k);
      return;
    }
  }
  Separate();
  AppendJsonString(out_, text);
  if (suffix != '\0') out_->push_back(suffix);
}

std::string JsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(&out, text);
  return out;
}

void AppendJson(std::string* out, simdjson::dom::element element) {
  using simdjson::dom::element_type;
  switch (element.type()) {
    case element_type::OBJECT: {
      out->push_back('{');
      bool first = true;
      simdjson::dom::object object = element.get_object().value_unsafe();
      for (auto field : object) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, field.key);
        out->push_back(':');
        AppendJson(out, field.value);
      }
      out->push_back('}');
      return;
    }
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      simdjson::dom::array array = element.get_array().value_unsafe();
      for (auto item : array) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(out, item);
      }
      out->push_back(']');
      return;
    }
    case element_type::STRING:
      AppendJsonString(out, element.get_string().value_unsafe());
      return;
    default:
      // Numbers, booleans and null: simdjson prints them in their shortest round-trip form.
      out->append(simdjson::minify(element));
      return;
  }
}

JsonWriter& JsonWriter::BeginObjectFrom(std::string_view object) {
  Separate();
  // Without its closing brace; members follow a comma unless the object was empty.
  object = object.substr(0, object.rfind('}'));
  out_->append(object);
  need_comma_ = object.find_first_not_of(" \t\n\r", 1) != std::string_view::npos;
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return Literal(std::string_view(buffer, static_cast<size_t>(end - buffer)));
}

JsonWriter& JsonWriter::Uint(uint64_t value) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return Literal(std::string_view(buffer, static_cast<size_t>(end - buffer)));
}

JsonWriter& JsonWriter::Double(double value) {
  if (!std::isfinite(value)) value = 0;
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return Literal(std::string_view(buffer, static_cast<size_t>(end - buffer)));
}

JsonWriter& JsonWriter::Double(double value, int significant_digits) {
  if (!std::isfinite(value)) value = 0;
  char buffer[32];  // "-d.dddddddddddddddde-308" at 17 digits
  significant_digits = std::clamp(significant_digits, 1, 17);
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value,
                                 std::chars_format::general, significant_digits)
                       .ptr;
  return Literal(std::string_view(buffer, static_cast<size_t>(end - buffer)));
}

}  // namespace omniflow
