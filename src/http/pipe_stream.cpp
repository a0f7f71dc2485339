#include "http/pipe_stream.h"

namespace omniflow::http {

class Pipe::ReaderStream final : public BodyStream {
 public:
  explicit ReaderStream(std::shared_ptr<Pipe> pipe) : pipe_(std::move(pipe)) {}
  ~ReaderStream() override { pipe_->ReaderGone(); }
  void Next(std::function<void(Piece)> done) override { pipe_->Next(std::move(done)); }

 private:
  std::shared_ptr<Pipe> pipe_;
};

std::shared_ptr<BodyStream> Pipe::Reader() {
  return std::make_shared<ReaderStream>(shared_from_this());
}

std::function<void()> Pipe::TakePending() {
  if (!pending_ || (buffer_.empty() && !closed_)) return {};
  BodyStream::Piece piece;
  piece.data.swap(buffer_);
  piece.last = closed_;
  piece.status = close_status_;
  room_.SignalAll();
  return [done = std::move(pending_), piece = std::move(piece)]() mutable {
    done(std::move(piece));
  };
}

bool Pipe::Push(std::string_view data) {
  std::function<void()> deliver;
  {
    MutexLock lock(&mu_);
    while (!reader_gone_ && !closed_ && buffer_.size() >= max_buffered_) room_.Wait(&mu_);
    if (reader_gone_) return false;
    if (closed_) return true;
    buffer_.append(data);
    deliver = TakePending();
    pending_ = nullptr;
  }
  if (deliver) deliver();
  return true;
}

void Pipe::Close(Status status) {
  std::function<void()> deliver;
  {
    MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    close_status_ = std::move(status);
    deliver = TakePending();
    pending_ = nullptr;
  }
  if (deliver) deliver();
}

void Pipe::Next(std::function<void(BodyStream::Piece)> done) {
  std::function<void()> deliver;
  {
    MutexLock lock(&mu_);
    pending_ = std::move(done);
    deliver = TakePending();
    if (deliver) pending_ = nullptr;
  }
  if (deliver) deliver();
}

void Pipe::ReaderGone() {
  MutexLock lock(&mu_);
  reader_gone_ = true;
  pending_ = nullptr;
  room_.SignalAll();
}

}  // namespace omniflow::http
