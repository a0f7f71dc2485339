#include "api/handlers.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

namespace {

// Counters an operator watches: saves committed, waiting, refused (queue full or stopping) and
// failed (the store refused the transaction; those callers got 503 and nothing is retried for
// them); interactions of the assistant that went to the spool because the store could not take
// them (replayed later), and any lost.
void WriteCounters(const ApiContext& context, JsonWriter* w) {
  if (context.writer != nullptr) {
    w->Key("writer")
        .BeginObject()
        .Field("committed", context.writer->committed())
        .Field("queued", context.writer->queued())
        .Field("rejected", context.writer->rejected())
        .Field("failed", context.writer->failed())
        .EndObject();
  }
  if (context.assistant.logger != nullptr) {
    w->Key("assistant_log")
        .BeginObject()
        .Field("spooled", context.assistant.logger->spooled())
        .Field("lost", context.assistant.logger->lost())
        .EndObject();
  }
}

}  // namespace

void Healthz(const ApiContext& context, const Call&, http::Respond respond) {
  if (context.store == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("the store is not enabled here")));
  }
  Status s = context.store->CheckWritable();
  JsonWriter w;
  w.BeginObject();
  if (s.ok()) {
    w.Field("status", "ok");
  } else {
    // Why goes to the log under this answer's request id (it may name the database).
    w.Field("status", "error")
        .Field("error", "the store is not writable: saves are refused with 503 until it is; the "
                        "reason is in the server log");
  }
  WriteCounters(context, &w);
  w.EndObject();
  http::Response r = JsonResponse(s.ok() ? 200 : 503, w.Release());
  if (!s.ok()) {
    r.log_error = s.message();
    r.headers.emplace_back("Retry-After", "1");
  }
  respond(std::move(r));
}

}  // namespace omniflow::api
