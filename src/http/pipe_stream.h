// A response body fed by a producer thread as its bytes arrive (the capture proxy passing a
// provider's server-sent events on): the server takes whatever has arrived each time it asks,
// and the producer waits while too much is buffered (back-pressure). Nothing is held back to
// fill a piece: bytes go out as soon as the connection can take them.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/mutex.h"
#include "http/request.h"

namespace omniflow::http {

// The producer's end; the server reads through Reader(). Thread-safe.
class Pipe : public std::enable_shared_from_this<Pipe> {
 public:
  // The producer waits in Push while more than `max_buffered` bytes are not yet taken.
  explicit Pipe(size_t max_buffered = 256 << 10) : max_buffered_(max_buffered) {}

  // Appends `data`, waiting while the buffer is full. False once the reader is gone (the client
  // left or the server dropped the body): the producer should stop.
  bool Push(std::string_view data) EXCLUDES(mu_);
  // Ends the body: complete when `status` is ok, else cut short (the client sees a truncated
  // body). Later Pushes are ignored.
  void Close(Status status = Status::Ok()) EXCLUDES(mu_);

  // The body the server sends: one reader per pipe. Destroying it tells the producer.
  std::shared_ptr<BodyStream> Reader();

 private:
  class ReaderStream;
  void Next(std::function<void(BodyStream::Piece)> done) EXCLUDES(mu_);
  void ReaderGone() EXCLUDES(mu_);
  // Hands what is buffered to a waiting `Next`, if any; call with mu_ held, then run the
  // returned call after unlocking.
  std::function<void()> TakePending() REQUIRES(mu_);

  const size_t max_buffered_;
  Mutex mu_;
  CondVar room_;  // signalled when the buffer is taken or the reader is gone
  std::string buffer_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
  Status close_status_ GUARDED_BY(mu_);
  bool reader_gone_ GUARDED_BY(mu_) = false;
  std::function<void(BodyStream::Piece)> pending_ GUARDED_BY(mu_);
};

}  // namespace omniflow::http
