#include "core/query.h"

namespace omniflow {

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// True when `text` holds a C0 control character or DEL (after decoding).
bool HasControl(std::string_view text) {
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

Result<QueryParams> QueryParams::Parse(std::string_view query) {
  QueryParams params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    std::string name, value;
    if (!PercentDecode(raw_name, true, &name) || !PercentDecode(raw_value, true, &value))
      return Status::InvalidArgument("malformed percent-escape in the query string");
    if (HasControl(name) || HasControl(value)) {
      return Status::InvalidArgument(
          "query parameters may not contain control characters (such as %00 or a newline)");
    }
    if (params.Get(name))
      return Status::InvalidArgument("query parameter \"" + name +
                                     "\" is given more than once");
    params.params_.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

Result<QueryParams> QueryParams::FromPairs(
    std::vector<std::pair<std::string, std::string>> pairs) {
  QueryParams params;
  for (auto& [name, value] : pairs) {
    if (HasControl(name) || HasControl(value)) {
      return Status::InvalidArgument("\"" + name.substr(0, 64) +
                                     "\" may not contain control characters");
    }
    if (params.Get(name)) {
      return Status::InvalidArgument("\"" + name.substr(0, 64) + "\" is given more than once");
    }
    params.params_.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

std::optional<std::string_view> QueryParams::Get(std::string_view name) const {
  for (const auto& [n, v] : params_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

Result<int64_t> QueryParams::GetInt(std::string_view name, int64_t min, int64_t max,
                                    int64_t fallback) const {
  auto raw = Get(name);
  if (!raw) return fallback;
  auto bad = [&] {
    return Status::InvalidArgument(std::string(name) + " must be an integer from " +
                                   std::to_string(min) + " to " + std::to_string(max));
  };
  if (raw->empty() || raw->size() > 18) return bad();
  int64_t v = 0;
  for (char c : *raw) {
    if (c < '0' || c > '9') return bad();
    v = v * 10 + (c - '0');
  }
  if (v < min || v > max) return bad();
  return v;
}

}  // namespace omniflow
