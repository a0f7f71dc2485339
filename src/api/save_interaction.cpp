#include "api/handlers.h"
#include "api/respond.h"
#include "core/query.h"
#include "core/validate.h"

namespace omniflow::api {

void SaveInteraction(const ApiContext& context, const http::Request& request,
                     http::Respond respond) {
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  Result<Identity> identity = AuthenticateUser(context, "save_interaction", request, *query);
  if (!identity.ok()) return respond(ErrorFrom(identity.status()));
  if (Status s = CheckJsonContentType(request); !s.ok()) return respond(ErrorFrom(s));
  Result<SaveRequest> parsed = ParseSaveRequest(request.body);
  if (!parsed.ok()) {
    http::Response r = ErrorFrom(parsed.status());
    r.log_user = identity->user_id;
    return respond(std::move(r));
  }

  Stamp stamp = context.ids->Next();
  std::string body;
  body.reserve(96);
  body.append("{\"status\":\"success\",\"interaction_id\":\"").append(stamp.interaction_id);
  body.append("\",\"timestamp\":\"").append(stamp.timestamp).append("\"}");
  InteractionRecord record = BuildInteraction(stamp, identity->user_id, std::move(*parsed));

  std::string user = identity->user_id;
  Status queued = context.writer->Submit(
      std::move(record),
      [respond, body = std::move(body), user](const Status& committed) mutable {
        if (committed.ok()) return respond(JsonResponse(201, std::move(body), std::move(user)));
        http::Response r = ErrorFrom(Status::Unavailable(
            "the interaction was not saved (" + committed.message() + "); retry later"));
        r.log_user = std::move(user);
        respond(std::move(r));
      });
  if (!queued.ok()) {
    http::Response r = ErrorFrom(queued);
    r.log_user = identity->user_id;
    respond(std::move(r));
  }
}

}  // namespace omniflow::api
