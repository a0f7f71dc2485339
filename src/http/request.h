// The HTTP request and response as handlers see them, free of Boost.Beast so that handlers and
// their tests compile fast and never touch sockets. A Request's views stay valid until its
// Respond callback has been called.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace omniflow::http {

struct Request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and query as received
  std::string_view path;    // target before '?'
  std::string_view query;   // target after '?', without it
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
  // X-Request-Id of this request: the caller's when it is 1-64 characters of A-Z a-z 0-9 . _ -,
  // else one the server made. It is in the response's header and in the request's log line.
  std::string_view request_id;

  // The first header named `name` (case-insensitive).
  std::optional<std::string_view> Header(std::string_view name) const;

  // Sets `target`, and `path` and `query` from it (split at the first '?').
  void SetTarget(std::string_view request_target) {
    target = request_target;
    size_t q = target.find('?');
    path = target.substr(0, q);
    query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  }
};

// A response body made piece by piece, for answers too large to hold in memory (exports). The
// server sends it with chunked transfer encoding (HTTP/1.0: until the connection closes). It
// asks for the next piece only once the previous one is written (back-pressure), each write
// under the connection's read timeout; when the client goes away or a write times out it
// destroys the stream without asking again, so the producer stops.
class BodyStream {
 public:
  struct Piece {
    // Not ok: the body cannot be completed. The server logs why and closes the connection
    // without the final chunk, so the client sees a truncated body, never a complete one.
    Status status;
    std::string data;
    bool last = false;  // the end of the body (`data` may still hold its last bytes)
  };
  virtual ~BodyStream() = default;
  // Makes the next piece and calls `done` exactly once, from any thread (never an io thread's
  // blocking work: post it elsewhere). Not called again before `done`.
  virtual void Next(std::function<void(Piece)> done) = 0;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Retry-After
  std::string log_user;  // the acting user, masked when logged
  // The path the request log shows instead of the request's, when set: the API layer leaves
  // values that may name a person (a user id, a thread id) out of it.
  std::string log_path;
  // Why an internal failure happened (a store's error text, say): logged with the request id,
  // never sent to the client, whose body says only that an internal error occurred.
  std::string log_error;
  bool close = false;    // close the connection after this response
  // When set, the body comes from this stream, after the status and headers; `body` is unused.
  std::shared_ptr<BodyStream> stream;
};

// Completes a request. Call exactly once, from any thread.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Respond)>;

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace omniflow::http
