#include "agent/http_fetch.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>

namespace omniflow::agent {

namespace {

constexpr size_t kMaxReply = 16u << 20;

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxReply) return 0;  // refuse absurd answers
  body->append(data, size * n);
  return size * n;
}

// Picks Retry-After and Content-Type out of the response headers.
size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  auto* reply = static_cast<FetchReply*>(out);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  std::string value = line.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
  if (name == "retry-after") reply->retry_after_s = std::atol(value.c_str());
  if (name == "content-type") reply->content_type = value;
  return size * n;
}

// What the streaming write callback needs: the handle (for the status), the sink, and whether
// the head went out.
struct StreamState {
  CURL* curl;
  FetchSink* sink;
  FetchReply* reply;
  bool head_sent = false;
};

bool SendHead(StreamState* state) {
  state->head_sent = true;
  curl_easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &state->reply->status);
  return state->sink->OnHead(state->reply->status, state->reply->content_type);
}

size_t StreamBody(char* data, size_t size, size_t n, void* out) {
  auto* state = static_cast<StreamState*>(out);
  if (!state->head_sent && !SendHead(state)) return 0;
  return state->sink->OnData(std::string_view(data, size * n)) ? size * n : 0;
}

// Runs `request` on a fresh handle, its body going to `write` with `write_data`.
void Perform(const FetchRequest& request, curl_write_callback write, void* write_data,
             FetchReply* reply, StreamState* stream) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (!curl) {
    reply->curl = CURLE_FAILED_INIT;
    return;
  }
  if (stream != nullptr) stream->curl = curl;
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  // No "Expect: 100-continue" round trip before larger bodies: it costs a wait on servers that
  // do not answer it.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method != "GET" || !request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(request.timeout_ms, 10000L));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, write_data);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, reply);
  reply->curl = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
  if (stream != nullptr && !stream->head_sent && reply->curl == CURLE_OK) SendHead(stream);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

}  // namespace

FetchReply Fetch(const FetchRequest& request) {
  FetchReply reply;
  Perform(request, &CollectBody, &reply.body, &reply, nullptr);
  return reply;
}

FetchReply FetchStreaming(const FetchRequest& request, FetchSink* sink) {
  FetchReply reply;
  StreamState state{nullptr, sink, &reply};
  Perform(request, &StreamBody, &state, &reply, &state);
  return reply;
}

}  // namespace omniflow::agent
