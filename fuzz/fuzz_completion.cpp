// libFuzzer target: the LLM provider's chat-completions answer (untrusted: a provider may send
// anything). Anything unparseable must be BadGateway, and a parsed answer must give an assistant
// message that is itself valid JSON, since it is sent back to the provider on the next round.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/provider.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace omniflow;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  Result<agent::ChatResult> result = agent::ParseCompletion(body);
  if (!result.ok()) {
    if (result.status().code() != Status::Code::kUpstreamFailed) std::abort();
    return 0;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element message;
  if (parser.parse(result->message_json).get(message) != simdjson::SUCCESS) std::abort();
  return 0;
}
