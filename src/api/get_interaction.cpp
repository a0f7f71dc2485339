#include "api/analytics_json.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/query.h"

namespace omniflow::api {

namespace {
constexpr std::string_view kPrefix = "/api/interactions/";

bool LooksLikeInteractionId(std::string_view id) {
  if (id.size() < 4 || id.size() > 64 || id.substr(0, 4) != "INT_") return false;
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}
}  // namespace

void GetInteraction(const ApiContext& context, const http::Request& request,
                    http::Respond respond) {
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  Result<Identity> identity = AuthenticateUser(context, "get_interaction", request, *query);
  if (!identity.ok()) return respond(ErrorFrom(identity.status()));

  std::string_view id = request.path.substr(kPrefix.size());
  Result<std::string> found = LooksLikeInteractionId(id)
                                  ? context.store->Get(identity->user_id, std::string(id))
                                  : Result<std::string>(Status::NotFound(""));
  if (!found.ok()) {
    Status s = found.status().code() == Status::Code::kNotFound
                   ? Status::NotFound("no interaction with that id for this user")
                   : found.status();
    http::Response r = ErrorFrom(s);
    r.log_user = identity->user_id;
    return respond(std::move(r));
  }
  std::string body;
  body.reserve(found->size() + 40);
  body.append("{\"status\":\"success\",\"interaction\":").append(*found);
  if (context.analytics) {
    Result<std::optional<Feedback>> feedback =
        context.analytics->GetFeedback(identity->user_id, std::string(id));
    body.append(",\"feedback\":");
    AppendFeedbackJson(&body, feedback.ok() ? *feedback : std::nullopt);
  }
  body.push_back('}');
  respond(JsonResponse(200, std::move(body), identity->user_id));
}

}  // namespace omniflow::api
