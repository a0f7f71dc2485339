#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace omniflow::metrics {

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  // Plain decimals where they stay short (bucket bounds read "0.0001", not "1e-04").
  char buffer[64];
  const double magnitude = std::fabs(value);
  const auto format = magnitude >= 1e-9 && magnitude < 1e15 ? std::chars_format::fixed
                                                             : std::chars_format::general;
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, format);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

void ExpositionWriter::Family(std::string_view name, std::string_view help,
                              std::string_view type) {
  text_.append("# HELP ").append(name).append(" ").append(EscapeHelp(help)).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void ExpositionWriter::Sample(std::string_view name, const Labels& labels, double value,
                              std::string_view extra_name, std::string_view extra_value) {
  text_.append(name);
  if (!labels.empty() || !extra_name.empty()) {
    text_.push_back('{');
    bool first = true;
    for (const auto& [label, label_value] : labels) {
      if (!first) text_.push_back(',');
      first = false;
      text_.append(label).append("=\"").append(EscapeLabelValue(label_value)).append("\"");
    }
    if (!extra_name.empty()) {
      if (!first) text_.push_back(',');
      text_.append(extra_name).append("=\"").append(EscapeLabelValue(extra_value)).append("\"");
    }
    text_.push_back('}');
  }
  text_.append(" ").append(FormatValue(value)).append("\n");
}

}  // namespace omniflow::metrics
