// The data functions, for a UI: the same operations the assistant's tools run, over the
// caller's own documents. GET /api/get_data?target_blob_name=, GET /api/list_data,
// POST /api/add_new_data, /api/update_data, /api/delete_data with the tool's JSON arguments.
#include <memory>

#include "agent/tools.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/json.h"
#include "core/query.h"

namespace omniflow::api {

namespace {

// Runs tool `function` for the authenticated caller on a worker thread (the data store may
// sync to disk or talk to a database) and answers its result.
void RunDataFunction(const ApiContext& context, const http::Request& request,
                     http::Respond respond, std::string_view function, std::string arguments) {
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  Result<Identity> identity = AuthenticateUser(context, function, request, *query);
  if (!identity.ok()) return respond(ErrorFrom(identity.status()));
  if (request.method == "POST") {
    if (Status s = CheckJsonContentType(request); !s.ok()) return respond(ErrorFrom(s));
  }
  if (context.data == nullptr || context.assistant.workers == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("the data functions are not enabled here")));
  }
  std::string user = identity->user_id;
  DataStore* data = context.data;
  Status posted = context.assistant.workers->Post(
      [data, user, respond, name = std::string(function), arguments = std::move(arguments)] {
        agent::ToolOutcome outcome = agent::RunTool(data, user, name, arguments);
        http::Response r;
        r.status = outcome.ok ? 200 : HttpStatus(outcome.code);
        r.body = std::move(outcome.result);
        r.log_user = user;
        respond(std::move(r));
      });
  if (!posted.ok()) respond(ErrorFrom(posted));
}

}  // namespace

void GetData(const ApiContext& context, const http::Request& request, http::Respond respond) {
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  std::optional<std::string_view> blob = query->Get("target_blob_name");
  if (!blob) {
    // Authenticate first so that an anonymous caller learns nothing but 401.
    Result<Identity> identity = AuthenticateUser(context, "get_data", request, *query);
    if (!identity.ok()) return respond(ErrorFrom(identity.status()));
    return respond(ErrorFrom(Status::InvalidArgument(
        "target_blob_name is required, e.g. ?target_blob_name=tasks.json")));
  }
  std::string arguments = "{\"target_blob_name\":" + JsonString(*blob) + "}";
  RunDataFunction(context, request, std::move(respond), "get_data", std::move(arguments));
}

void ListData(const ApiContext& context, const http::Request& request, http::Respond respond) {
  RunDataFunction(context, request, std::move(respond), "list_data", "{}");
}

void AddNewData(const ApiContext& context, const http::Request& request, http::Respond respond) {
  RunDataFunction(context, request, std::move(respond), "add_new_data", std::string(request.body));
}

void UpdateData(const ApiContext& context, const http::Request& request, http::Respond respond) {
  RunDataFunction(context, request, std::move(respond), "update_data", std::string(request.body));
}

void DeleteData(const ApiContext& context, const http::Request& request, http::Respond respond) {
  RunDataFunction(context, request, std::move(respond), "delete_data", std::string(request.body));
}

}  // namespace omniflow::api
