// GET /api/export: a user's (or, with the admin key, any or every user's) interactions as
// jsonl, csv or openai, streamed as they are read. Each piece is made on the worker pool, never
// on an io thread; the server asks for the next only once the previous one is on the wire.
#include <atomic>
#include <memory>

#include "api/analytics_access.h"
#include "api/exporter.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/validate.h"

namespace omniflow::api {

namespace {

// Rows per store read, and the least output per piece: a piece is one or a few pages, so
// memory per export stays in the hundreds of kilobytes.
constexpr int kPageRows = 256;
constexpr size_t kPieceBytes = 64 << 10;

class ExportStream final : public http::BodyStream,
                           public std::enable_shared_from_this<ExportStream> {
 public:
  ExportStream(InteractionStore* store, agent::WorkerPool* workers, ExportFormat format,
               ExportFilter filter)
      : workers_(workers), exporter_(store, format, std::move(filter), kPageRows) {}

  void Next(std::function<void(Piece)> done) override {
    if (first_) {
      Piece piece = std::move(*first_);
      first_.reset();
      return done(std::move(piece));
    }
    Status posted = workers_->Post([self = shared_from_this(), done] { done(self->Make()); });
    if (!posted.ok()) done(Piece{posted, {}, false});
  }
  int64_t rows() const override { return rows_.load(std::memory_order_acquire); }

  // Makes the first piece now (on a worker thread), so that a failure before any byte is
  // sent can still be answered with an error status. Kept for the server's first Next().
  Status MakeFirst() {
    Piece piece = Make();
    if (!piece.status.ok()) return piece.status;
    first_ = std::move(piece);
    return Status::Ok();
  }

 private:
  Piece Make() {
    Piece piece;
    piece.data.reserve(kPieceBytes + (kPieceBytes >> 2));
    Result<bool> end = exporter_.Fill(&piece.data, kPieceBytes);
    if (!end.ok()) {
      piece.status = end.status();
      return piece;
    }
    piece.last = *end;
    rows_.store(exporter_.rows(), std::memory_order_release);
    return piece;
  }

  agent::WorkerPool* workers_;
  Exporter exporter_;  // used by one worker job at a time: Next is not called before done
  std::optional<Piece> first_;
  std::atomic<int64_t> rows_{0};  // exporter_.rows() after the last piece made, for rows()
};

}  // namespace

void Export(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  auto fail = [&](const Status& s) { respond(ErrorFrom(s, who)); };
  if (context.store == nullptr || context.assistant.workers == nullptr) {
    return fail(Status::Unavailable("export is not enabled here"));
  }
  Result<ExportFormat> format = ParseExportFormat(call.query.Get("format").value_or("jsonl"));
  if (!format.ok()) return fail(format.status());
  Result<std::optional<std::string>> user = ScopedUser(call.caller, call.query);
  if (!user.ok()) return fail(user.status());
  Result<AnalyticsScope> range = TimeScope(call.query);
  if (!range.ok()) return fail(range.status());
  ExportFilter filter;
  filter.user_id = std::move(*user);
  filter.from_us = range->from_us;
  filter.to_us = range->to_us;
  if (auto thread = call.query.Get("thread_id")) {
    if (!IsValidThreadId(*thread)) {
      return fail(Status::InvalidArgument(std::string("thread_id must be ") + kThreadIdRule));
    }
    filter.thread_id = std::string(*thread);
  }

  auto stream = std::make_shared<ExportStream>(context.store, context.assistant.workers, *format,
                                               std::move(filter));
  http::Response head;
  head.content_type = std::string(ExportContentType(*format));
  head.headers.emplace_back("Content-Disposition", "attachment; filename=\"omniflow-export." +
                                                       std::string(ExportExtension(*format)) + "\"");
  head.headers.emplace_back("Cache-Control", "no-store");
  head.log_user = who;
  Status posted = context.assistant.workers->Post(
      [stream, head = std::move(head), respond, who]() mutable {
        if (Status s = stream->MakeFirst(); !s.ok()) return respond(StoreError(s, who));
        head.stream = std::move(stream);
        respond(std::move(head));
      });
  if (!posted.ok()) fail(posted);
}

}  // namespace omniflow::api
