// Logging setup and the masking rule for anything user-identifying that reaches a log line.
// Logs go to stderr as logfmt lines (key=value). Keys, tokens and message text are never logged.
#pragma once

#include <string>
#include <string_view>

namespace omniflow {

// "test_user_123" -> "te***23"; ids of 4 characters or fewer -> "***"; empty -> "-".
std::string MaskUserId(std::string_view user_id);

// `text` made safe for one logfmt value: at most `max` bytes, every control character, space,
// quote, backslash and non-ASCII byte replaced by '?'. For paths and engine error texts.
std::string LogSafe(std::string_view text, size_t max = 200);

// Configures the default spdlog logger: stderr, level from `level` ("debug", "info", "warn",
// "error", "off"); false for an unknown level name.
bool InitLogging(std::string_view level);

}  // namespace omniflow
