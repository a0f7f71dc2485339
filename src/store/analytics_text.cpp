#include "store/analytics_text.h"

namespace omniflow {

namespace {
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += !IsContinuation(c);
  return n;
}

std::string_view TruncateUtf8(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!IsContinuation(text[i])) {
      if (chars == max_chars) return text.substr(0, i);
      ++chars;
    }
  }
  return text;
}

std::string NormalizeRequest(std::string_view text, size_t max_chars) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (IsSpace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  for (bool trimmed = true; trimmed && !out.empty();) {
    trimmed = false;
    for (std::string_view tail : {".", "!", "?", " ", "\xE3\x80\x82", "\xEF\xBC\x9F", "\xEF\xBC\x81"}) {
      if (out.size() >= tail.size() && out.compare(out.size() - tail.size(), tail.size(), tail) == 0) {
        out.resize(out.size() - tail.size());
        trimmed = true;
      }
    }
  }
  out.resize(TruncateUtf8(out, max_chars).size());
  return out;
}

Status CheckSearchText(std::string_view q) {
  if (q.size() > kMaxSearchBytes) {
    return Status::InvalidArgument("q is longer than " + std::to_string(kMaxSearchBytes) +
                                   " bytes");
  }
  return Status::Ok();
}

std::vector<std::string> SearchTerms(std::string_view q) {
  std::vector<std::string> terms;
  std::string current;
  for (char c : q) {
    if (IsSpace(c)) {
      if (!current.empty()) terms.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) terms.push_back(std::move(current));
  return terms;
}

}  // namespace omniflow
