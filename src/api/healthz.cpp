#include "api/handlers.h"
#include "api/respond.h"

namespace omniflow::api {

namespace {

// Counters an operator watches: saves committed, waiting, refused (queue full or stopping) and
// failed (the store refused the transaction; those callers got 503 and nothing is retried for
// them); interactions of the assistant that went to the spool because the store could not take
// them (replayed later), and any lost.
void AppendCounters(const ApiContext& context, std::string* body) {
  if (context.writer != nullptr) {
    *body += ",\"writer\":{\"committed\":" + std::to_string(context.writer->committed()) +
             ",\"queued\":" + std::to_string(context.writer->queued()) +
             ",\"rejected\":" + std::to_string(context.writer->rejected()) +
             ",\"failed\":" + std::to_string(context.writer->failed()) + "}";
  }
  if (context.assistant.logger != nullptr) {
    *body += ",\"assistant_log\":{\"spooled\":" +
             std::to_string(context.assistant.logger->spooled()) +
             ",\"lost\":" + std::to_string(context.assistant.logger->lost()) + "}";
  }
}

}  // namespace

void Healthz(const ApiContext& context, const Call&, http::Respond respond) {
  if (context.store == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("the store is not enabled here")));
  }
  Status s = context.store->CheckWritable();
  std::string body = s.ok() ? "{\"status\":\"ok\"" :
      // Why goes to the log under this answer's request id (it may name the database).
      "{\"status\":\"error\",\"error\":\"the store is not writable: saves are refused with 503 "
      "until it is; the reason is in the server log\"";
  AppendCounters(context, &body);
  body.push_back('}');
  http::Response r = JsonResponse(s.ok() ? 200 : 503, std::move(body));
  if (!s.ok()) {
    r.log_error = s.message();
    r.headers.emplace_back("Retry-After", "1");
  }
  respond(std::move(r));
}

}  // namespace omniflow::api
