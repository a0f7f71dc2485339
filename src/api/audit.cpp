// Recording audited requests: the rule (AuditAction), the entry, and the answer that waits for
// its entry's commit. The handler of GET /api/audit is in get_audit.cpp.
#include "api/audit.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <memory>

#include "auth/jwt.h"

namespace omniflow::api {

namespace {

void LogDropped(const AuditEntry& entry, const Status& why) {
  // The request's own log line has the rest (method, path, masked user); no secret is here.
  spdlog::error("event=audit_dropped request_id={} action={} status={} reason=\"{}\"",
                entry.request_id, entry.action, entry.status, why.message());
}

// Appends `entry` without waiting for it (a stream whose client went away).
void Record(AuditWriter* writer, AuditEntry entry) {
  AuditEntry copy = entry;
  Status s = writer->Submit(std::move(entry), [](const Status& status, const AuditEntry& e) {
    if (!status.ok()) LogDropped(e, status);
  });
  if (!s.ok()) LogDropped(copy, s);
}

// A streamed answer's body, recorded when its last piece has been made (before that piece goes
// out) with the rows the stream held, or, when the server drops it early (the client went away,
// a write timed out), on destruction with the rows made so far.
class AuditedStream final : public http::BodyStream,
                            public std::enable_shared_from_this<AuditedStream> {
 public:
  AuditedStream(std::shared_ptr<http::BodyStream> inner, AuditEntry entry, AuditWriter* writer)
      : inner_(std::move(inner)), entry_(std::move(entry)), writer_(writer) {}
  ~AuditedStream() override {
    if (recorded_) return;
    entry_.count = Count();
    Record(writer_, std::move(entry_));
  }

  void Next(std::function<void(Piece)> done) override {
    inner_->Next([self = shared_from_this(), done = std::move(done)](Piece piece) mutable {
      if (self->recorded_ || (piece.status.ok() && !piece.last)) return done(std::move(piece));
      self->recorded_ = true;
      AuditEntry entry = self->entry_;
      entry.count = self->Count();
      auto held = std::make_shared<Piece>(std::move(piece));
      AuditEntry copy = entry;
      Status s = self->writer_->Submit(std::move(entry),
                                       [held, done](const Status& status, const AuditEntry& e) {
                                         if (!status.ok()) LogDropped(e, status);
                                         done(std::move(*held));
                                       });
      if (!s.ok()) {
        LogDropped(copy, s);
        done(std::move(*held));
      }
    });
  }
  int64_t rows() const override { return inner_->rows(); }

 private:
  std::optional<int64_t> Count() const {
    const int64_t n = inner_->rows();
    return n >= 0 ? std::optional<int64_t>(n) : std::nullopt;
  }

  std::shared_ptr<http::BodyStream> inner_;
  AuditEntry entry_;
  AuditWriter* writer_;
  // Set by the callback of the last piece, which holds a reference: never concurrent with the
  // destructor.
  bool recorded_ = false;
};

}  // namespace

std::string ActorOf(Identity::Kind kind, const std::string& user_id, const Route& route) {
  switch (kind) {
    case Identity::Kind::kAdminKey:
      return "admin";
    case Identity::Kind::kToken:
      return "user:" + user_id;
    case Identity::Kind::kFunctionKey:
      return "key:" + std::string(route.function);
    case Identity::Kind::kOpen:
      return "anonymous";
  }
  return "anonymous";
}

std::string_view AuditAction(const Route& route, std::string_view actor, int status) {
  if (route.access == Access::kPublic) return {};
  if (status == 401 || status == 403) return "auth_failed";
  if (!route.audit.empty()) return route.audit;
  if (actor == "admin") return AdminAuditAction(route);
  return {};
}

std::string AuditPath(const Route& route, bool proxied) {
  return proxied ? ProxyPattern(route) : std::string(route.pattern);
}

void AnswerAudited(const ApiContext& context, const Route& route, bool proxied,
                   const http::Request& request, const AuditSubject& subject,
                   http::Response response, const http::Respond& respond) {
  AuditWriter* writer = context.audit.writer;
  const std::string_view action =
      writer == nullptr ? std::string_view() : AuditAction(route, subject.actor, response.status);
  if (action.empty()) return respond(std::move(response));
  AuditEntry entry;
  entry.ts_us = (context.audit.clock ? context.audit.clock : Clock::Real())->NowMicros();
  entry.actor = subject.actor;
  entry.action = std::string(action);
  entry.target_user = subject.target_user;
  entry.path = AuditPath(route, proxied);
  entry.status = response.status;
  if (response.rows >= 0) entry.count = response.rows;
  entry.request_id = std::string(request.request_id);
  if (response.stream) {
    response.stream =
        std::make_shared<AuditedStream>(std::move(response.stream), std::move(entry), writer);
    return respond(std::move(response));
  }
  auto held = std::make_shared<http::Response>(std::move(response));
  AuditEntry copy = entry;
  Status s =
      writer->Submit(std::move(entry), [held, respond](const Status& status, const AuditEntry& e) {
        if (!status.ok()) LogDropped(e, status);
        respond(std::move(*held));
      });
  if (!s.ok()) {
    LogDropped(copy, s);
    respond(std::move(*held));
  }
}

std::string EncodeAuditCursor(int64_t before_seq) {
  return Base64UrlEncode("s1|" + std::to_string(before_seq));
}

Result<int64_t> DecodeAuditCursor(std::string_view text) {
  const Status bad = Status::InvalidArgument(
      "cursor is not valid: pass the next_cursor of a previous page unchanged");
  std::string raw;
  if (text.size() > 64 || !Base64UrlDecode(text, &raw)) return bad;
  std::string_view v(raw);
  if (v.substr(0, 3) != "s1|") return bad;
  v.remove_prefix(3);
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seq);
  if (ec != std::errc() || end != v.data() + v.size() || seq < 1) return bad;
  return seq;
}

}  // namespace omniflow::api
