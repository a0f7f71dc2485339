// libFuzzer target: the save_interaction body parser and validator. Invariant: whatever is
// accepted becomes an interaction whose canonical JSON parses back as a JSON object.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <simdjson.h>

#include "core/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace omniflow;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  Result<SaveRequest> parsed = ParseSaveRequest(body);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) std::abort();  // every refusal says why
    return 0;
  }
  Stamp stamp{1765458330123456, "INT_20251211_130530_123456", "2025-12-11T13:05:30.123456Z"};
  InteractionRecord record = BuildInteraction(stamp, "fuzz_user", std::move(*parsed), {});
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(record.json).get(root) || !root.is_object()) std::abort();
  return 0;
}
