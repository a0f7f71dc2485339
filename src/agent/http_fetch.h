// One blocking HTTP request over libcurl, for the LLM provider and the router's upstream.
// Call it from worker threads only, never from the I/O threads.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace omniflow::agent {

struct FetchRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  long timeout_ms = 60000;
};

struct FetchReply {
  CURLcode curl = CURLE_OK;  // transport result; CURLE_OPERATION_TIMEDOUT on timeout
  long status = 0;           // HTTP status, 0 when no answer
  long retry_after_s = -1;   // Retry-After in seconds, -1 when absent
  std::string content_type;
  std::string body;
};

FetchReply Fetch(const FetchRequest& request);

// Receives a reply's body as it arrives, on the thread that called FetchStreaming.
class FetchSink {
 public:
  virtual ~FetchSink() = default;
  // The reply's status and Content-Type, once, before any OnData (also for an empty body).
  // False aborts the transfer.
  virtual bool OnHead(long status, std::string_view content_type) = 0;
  // The next bytes of the body, as soon as they are read; false aborts the transfer.
  virtual bool OnData(std::string_view data) = 0;
};

// Like Fetch, but hands the body to `sink` piece by piece instead of collecting it (the reply's
// body stays empty): for server-sent events passed on as they arrive. `curl` is
// CURLE_WRITE_ERROR when the sink aborted.
FetchReply FetchStreaming(const FetchRequest& request, FetchSink* sink);

}  // namespace omniflow::agent
