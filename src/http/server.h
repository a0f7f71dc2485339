// The HTTP/1.1 server: Boost.Beast sessions on a pool of io threads, one strand per connection,
// a timeout on every read, body and header limits, a cap on connections, and a graceful stop
// on SIGINT/SIGTERM that lets in-flight requests finish. Beast stays inside server.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/router.h"

namespace omniflow::http {

struct ServerOptions {
  std::string host = "127.0.0.1";  // address to listen on
  uint16_t port = 7071;            // 0 picks a free port
  int threads = 0;                 // io threads; 0 = number of cores
  size_t max_body = 1 << 20;       // bytes; larger bodies get 413
  size_t max_header = 16 << 10;    // bytes of request line and headers; larger get 431
  size_t max_connections = 10000;  // further connections are closed at once
  // To receive one whole request, waiting on an idle keep-alive connection included.
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds drain_timeout{10}; // on stop, wait this long for in-flight requests
  // Told of every answered request once its answer is written (a stream: ended): the router's
  // index of the route served (-1: none), the status and the time since its first byte. Runs
  // on an io thread, so it must be cheap and thread-safe (metrics). Empty: nobody is told.
  std::function<void(int route, int status, std::chrono::microseconds duration)> on_answered;
};

class Server {
 public:
  Server(ServerOptions options, const Router* router);
  ~Server();

  // Binds and listens; after this, port() is the bound port.
  Status Listen();
  uint16_t port() const;

  // Serves on the io threads until Stop() or SIGINT/SIGTERM; returns after draining.
  // `on_stop` runs once when a stop begins (e.g. to log it).
  void Run(std::function<void()> on_stop = {});

  // Begins a graceful stop: no new connections, in-flight requests finish. Thread-safe.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace omniflow::http
