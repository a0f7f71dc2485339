// A deliberately small HTTP/1.1 client over POSIX sockets for end-to-end tests: it sends exactly
// the bytes a test asks for (hostile ones included) and parses Content-Length, chunked and
// read-until-close responses.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

namespace omniflow::testing {

struct HttpResponse {
  int status = 0;  // 0 when the connection closed without a response
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;              // chunked bodies decoded
  bool chunked = false;          // sent with Transfer-Encoding: chunked
  int chunks = 0;                // data chunks received (chunked only)
  bool complete = true;          // false: a chunked body ended without its last chunk

  // The body parsed as JSON; fails the calling test if it is not JSON.
  simdjson::dom::element Json() const;
  std::string Header(const std::string& name) const;

 private:
  mutable std::shared_ptr<simdjson::dom::parser> parser_;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : port_(port) {}
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request on the kept-alive connection (reconnecting if the server closed it).
  HttpResponse Request(const std::string& method, const std::string& target,
                       const Headers& headers = {}, const std::string& body = "",
                       bool json_body = true);
  HttpResponse Get(const std::string& target, const Headers& headers = {}) {
    return Request("GET", target, headers);
  }
  HttpResponse Post(const std::string& target, const std::string& body,
                    const Headers& headers = {}) {
    return Request("POST", target, headers, body);
  }

  // Sends `raw` bytes on a fresh connection and reads one response (or none if it closes).
  // `timeout_ms` bounds the wait.
  HttpResponse Raw(const std::string& raw, int timeout_ms = 5000);

  // Opens a connection and returns its descriptor (for slow-client tests); -1 on failure.
  int Connect();
  // Reads one response from `fd`; status 0 if the peer closed first or nothing came in time.
  static HttpResponse ReadResponse(int fd, int timeout_ms);

 private:
  uint16_t port_;
  int fd_ = -1;
};

// Writes all of `data` to the socket `fd`; false when the peer is gone.
bool SendAll(int fd, const std::string& data);

// Percent-encodes a query value.
std::string UrlEncode(const std::string& value);

}  // namespace omniflow::testing
