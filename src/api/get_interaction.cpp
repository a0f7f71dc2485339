#include "api/analytics_json.h"
#include "api/handlers.h"
#include "api/respond.h"

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
  std::string body;
  body.reserve(found->size() + 40);
  body.append("{\"status\":\"success\",\"interaction\":").append(*found);
  if (context.analytics) {
    Result<std::optional<Feedback>> feedback = context.analytics->GetFeedback(who, id);
    body.append(",\"feedback\":");
    AppendFeedbackJson(&body, feedback.ok() ? *feedback : std::nullopt);
  }
  body.push_back('}');
  respond(JsonResponse(200, std::move(body), who));
}

}  // namespace omniflow::api
