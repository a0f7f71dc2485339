// The Prometheus text exposition format, version 0.0.4: HELP and TYPE lines, samples with
// escaped label values, numbers as Prometheus reads them. What /metrics answers is written here.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace omniflow::metrics {

inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Label names and values of one series, in order. Values are never user ids, secrets or text
// a user wrote: routes, statuses, sources, kinds.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A label value escaped for the format: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);
// A HELP text escaped for the format: backslash and newline.
std::string EscapeHelp(std::string_view help);
// A sample value: integers without a fraction or exponent, +Inf, -Inf, NaN, else shortest
// round-trip decimal.
std::string FormatValue(double value);

// Appends families and samples to a text. Call Family once per metric name, then its samples.
class ExpositionWriter {
 public:
  // `type`: counter, gauge or histogram.
  void Family(std::string_view name, std::string_view help, std::string_view type);
  // One sample line: `name{labels,extra}` value. `extra_name` empty: no extra label (the
  // histogram's `le` goes there).
  void Sample(std::string_view name, const Labels& labels, double value,
              std::string_view extra_name = {}, std::string_view extra_value = {});
  const std::string& text() const { return text_; }
  std::string Release() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace omniflow::metrics
