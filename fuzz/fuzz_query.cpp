// libFuzzer target: the query-string parser and strict integer parameters.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace omniflow;
  std::string_view query(reinterpret_cast<const char*>(data), size);
  Result<QueryParams> params = QueryParams::Parse(query);
  if (!params.ok()) return 0;
  for (const char* name : {"limit", "offset", "thread_id", "cursor"}) {
    Result<int64_t> v = params->GetInt(name, 1, 1000, 50);
    if (v.ok() && (*v < 1 || *v > 1000)) std::abort();  // out of range accepted
  }
  return 0;
}
