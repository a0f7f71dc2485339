#include "api/analytics_json.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

void GetInteraction(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.store == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("the store is not enabled here"), who));
  }
  const std::string& id = call.params[0];  // checked against the id grammar by the route table
  Result<std::string> found = context.store->Get(who, id);
  if (!found.ok()) {
    return respond(found.status().code() == Status::Code::kNotFound
                       ? ErrorFrom(Status::NotFound("no interaction with that id for this user"), who)
                       : StoreError(found.status(), who));
  }
  JsonWriter w;
  w.Reserve(found->size() + 40);
  w.BeginObject().Field("status", "success").RawField("interaction", *found);
  if (context.analytics) {
    Result<std::optional<Feedback>> feedback = context.analytics->GetFeedback(who, id);
    w.Key("feedback");
    WriteFeedback(feedback.ok() ? *feedback : std::nullopt, &w);
  }
  w.EndObject();
  respond(JsonResponse(200, w.Release(), who));
}

}  // namespace omniflow::api
