#include "api/handlers.h"
#include "api/respond.h"

namespace omniflow::api {

void Healthz(const ApiContext& context, const Call&, http::Respond respond) {
  if (context.store == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("the store is not enabled here")));
  }
  Status s = context.store->CheckWritable();
  if (!s.ok()) {
    // Why goes to the log (it may name the database); the probe needs only the status.
    http::Response r = ErrorFrom(Status::Unavailable("the store is not writable"));
    r.log_error = s.message();
    return respond(std::move(r));
  }
  // Counters an operator watches: saves committed, waiting and refused; interactions of the
  // assistant that went to the spool because the store could not take them, and any lost.
  std::string body = "{\"status\":\"ok\"";
  if (context.writer != nullptr) {
    body += ",\"writer\":{\"committed\":" + std::to_string(context.writer->committed()) +
            ",\"queued\":" + std::to_string(context.writer->queued()) +
            ",\"rejected\":" + std::to_string(context.writer->rejected()) +
            ",\"failed\":" + std::to_string(context.writer->failed()) + "}";
  }
  if (context.assistant.logger != nullptr) {
    body += ",\"assistant_log\":{\"spooled\":" + std::to_string(context.assistant.logger->spooled()) +
            ",\"lost\":" + std::to_string(context.assistant.logger->lost()) + "}";
  }
  body.push_back('}');
  respond(JsonResponse(200, std::move(body)));
}

}  // namespace omniflow::api
