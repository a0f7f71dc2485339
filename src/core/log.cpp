#include "core/log.h"

#include <algorithm>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace omniflow {

std::string MaskUserId(std::string_view user_id) {
  if (user_id.empty()) return "-";
  if (user_id.size() <= 4) return "***";
  std::string out(user_id.substr(0, 2));
  out += "***";
  out += user_id.substr(user_id.size() - 2);
  return out;
}

bool InitLogging(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_logger_mt("omniflow");
  logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return true;
}

std::string LogSafe(std::string_view text, size_t max) {
  std::string out;
  const size_t n = std::min(text.size(), max);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x21 || c >= 0x7f || c == '"' || c == '\\' ? '?' : static_cast<char>(c));
  }
  return out;
}

}  // namespace omniflow
