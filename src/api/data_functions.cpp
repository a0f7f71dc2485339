// The data functions, for a UI: the same operations the assistant's tools run, over the
// caller's own documents. GET /api/get_data?target_blob_name=, GET /api/list_data,
// POST /api/add_new_data, /api/update_data, /api/delete_data with the tool's JSON arguments.
#include <memory>

#include "agent/tools.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

namespace {

// Runs tool `function` for the caller on a worker thread (the data store may sync to disk or
// talk to a database) and answers its result.
void RunDataFunction(const ApiContext& context, const Call& call, http::Respond respond,
                     std::string_view function, std::string arguments) {
  const std::string& who = call.caller.user_id;
  if (context.data == nullptr || context.assistant.workers == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("the data functions are not enabled here"), who));
  }
  DataStore* data = context.data;
  Status posted = context.assistant.workers->Post(
      [data, user = who, respond, name = std::string(function), arguments = std::move(arguments)] {
        agent::ToolOutcome outcome = agent::RunTool(data, user, name, arguments);
        http::Response r;
        r.status = outcome.ok ? 200 : HttpStatus(outcome.code);
        r.body = std::move(outcome.result);
        r.log_user = user;
        r.log_error = std::move(outcome.log_error);
        respond(std::move(r));
      });
  if (!posted.ok()) respond(ErrorFrom(posted, who));
}

}  // namespace

void GetData(const ApiContext& context, const Call& call, http::Respond respond) {
  std::optional<std::string_view> blob = call.query.Get("target_blob_name");
  if (!blob) {
    return respond(ErrorFrom(Status::InvalidArgument(
        "target_blob_name is required, e.g. ?target_blob_name=tasks.json"), call.caller.user_id));
  }
  JsonWriter arguments;
  arguments.BeginObject().Field("target_blob_name", *blob).EndObject();
  RunDataFunction(context, call, std::move(respond), "get_data", arguments.Release());
}

void ListData(const ApiContext& context, const Call& call, http::Respond respond) {
  RunDataFunction(context, call, std::move(respond), "list_data", "{}");
}

void AddNewData(const ApiContext& context, const Call& call, http::Respond respond) {
  RunDataFunction(context, call, std::move(respond), "add_new_data", std::string(call.request.body));
}

void UpdateData(const ApiContext& context, const Call& call, http::Respond respond) {
  RunDataFunction(context, call, std::move(respond), "update_data", std::string(call.request.body));
}

void DeleteData(const ApiContext& context, const Call& call, http::Respond respond) {
  RunDataFunction(context, call, std::move(respond), "delete_data", std::string(call.request.body));
}

}  // namespace omniflow::api
