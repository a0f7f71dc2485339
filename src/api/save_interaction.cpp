#include "api/handlers.h"
#include "api/respond.h"
#include "core/json.h"
#include "core/validate.h"

namespace omniflow::api {

void SaveInteraction(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.writer == nullptr || context.ids == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("saving is not enabled here"), who));
  }
  Result<SaveRequest> parsed = ParseSaveRequest(call.request.body);
  if (!parsed.ok()) return respond(ErrorFrom(parsed.status(), who));

  Stamp stamp = context.ids->Next();
  JsonWriter w;
  w.Reserve(96);
  w.BeginObject()
      .Field("status", "success")
      .Field("interaction_id", stamp.interaction_id)
      .Field("timestamp", stamp.timestamp)
      .EndObject();
  std::string body = w.Release();
  InteractionRecord record = BuildInteraction(stamp, who, std::move(*parsed));

  Status queued = context.writer->Submit(
      std::move(record),
      [respond, body = std::move(body), user = who](const Status& committed) mutable {
        if (committed.ok()) return respond(JsonResponse(201, std::move(body), std::move(user)));
        // The store's reason goes to the log; the client learns only that it was not saved.
        http::Response r = ErrorFrom(
            Status::Unavailable("the interaction was not saved; retry later"), std::move(user));
        r.log_error = committed.message();
        respond(std::move(r));
      });
  if (!queued.ok()) respond(ErrorFrom(queued, who));
}

}  // namespace omniflow::api
