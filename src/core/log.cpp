#include "core/log.h"

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

}  // namespace omniflow
