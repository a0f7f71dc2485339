// One blocking HTTP request over libcurl, for the LLM provider and the router's upstream.
// Call it from worker threads only, never from the I/O threads.
#pragma once

#include <curl/curl.h>

#include <string>
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

}  // namespace omniflow::agent
