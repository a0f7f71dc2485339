#include "api/openapi.h"

#include <string_view>
#include <vector>

#include "api/route_table.h"
#include "core/json.h"
#include "core/validate.h"

namespace omniflow::api {

namespace {

// One operation to describe: a table route at its own path or at its proxy_router path.
struct Operation {
  const Route* route;
  std::string path;  // OpenAPI form: "*" is {path}
  bool proxied;
};

// A table pattern in OpenAPI's form: a final "*" becomes the {path} parameter.
std::string OpenApiPath(std::string_view pattern) {
  std::string path(pattern);
  if (path.ends_with("/*")) path.replace(path.size() - 1, 1, "{path}");
  return path;
}

void WritePathParameter(std::string_view name, JsonWriter* w) {
  w->BeginObject().Field("name", name).Field("in", "path").Field("required", true);
  w->Key("schema").BeginObject().Field("type", "string");
  if (name == "interaction_id") {
    w->Field("pattern", "^INT_[A-Z0-9_]{1,60}$").EndObject();
    w->Field("description", "An interaction id as the server makes them (5-64 bytes)");
  } else if (name == "thread_id") {
    w->Field("minLength", 1).Field("maxLength", static_cast<int>(kMaxThreadIdLength)).EndObject();
    w->Field("description", std::string("A thread id, percent-encoded: ") + kThreadIdRule);
  } else if (name == "user_id") {
    w->Field("minLength", 1).Field("maxLength", static_cast<int>(kMaxUserIdLength)).EndObject();
    w->Field("description", std::string("A user id, percent-encoded: ") + kUserIdRule);
  } else if (name == "deployment") {
    w->Field("pattern", "^[A-Za-z0-9._-]{1,64}$").EndObject();
    w->Field("description", "An Azure OpenAI deployment name (not used: the configured provider answers)");
  } else if (name == "replay_id") {
    w->Field("pattern", "^rp_[0-9a-f]{24}$").EndObject();
    w->Field("description", "A replay id as POST /api/replays answered it");
  } else {
    w->EndObject();
    w->Field("description", "The rest of the path (the dashboard's files)");
  }
  w->EndObject();
}

// Who may call, as OpenAPI security requirements (alternatives).
void WriteSecurity(const Route& route, JsonWriter* w) {
  w->Key("security").BeginArray();
  std::vector<std::string_view> schemes;
  switch (route.access) {
    case Access::kPublic: break;
    case Access::kUser:
    case Access::kSpanUsers:
    case Access::kViewer:
    case Access::kSubject:
      schemes = {"functionKey", "functionKeyQuery", "userToken", "adminKey"};
      break;
    case Access::kAdmin: schemes = {"adminKey"}; break;
    case Access::kMetrics: schemes = {"adminKey", "adminKeyBearer", "metricsToken"}; break;
  }
  if (route.keys_as_bearer) {
    schemes.push_back("functionKeyBearer");
    schemes.push_back("azureApiKey");
  }
  for (std::string_view scheme : schemes) {
    w->BeginObject().Key(scheme).BeginArray().EndArray().EndObject();
  }
  w->EndArray();
}

void WriteErrorResponse(JsonWriter* w, std::string_view status, std::string_view description) {
  w->Key(status).BeginObject().Field("description", description);
  w->Key("content").BeginObject().Key("application/json").BeginObject();
  w->Key("schema").BeginObject().Field("$ref", "#/components/schemas/Error").EndObject();
  w->EndObject().EndObject().EndObject();
}

void WriteOperation(const Operation& op, JsonWriter* w) {
  const Route& route = *op.route;
  std::string id = std::string(route.method) + std::string(op.path);
  for (char& c : id) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!word) c = '_';
  }
  w->BeginObject();
  w->Field("operationId", id);
  w->Field("summary", op.proxied ? std::string(route.summary) + " (through proxy_router)"
                                 : std::string(route.summary));
  w->Field("description", "Who may call: " + std::string(AccessName(route.access)) + ".");
  w->Key("tags").BeginArray().String(op.proxied ? "proxy_router" : "api").EndArray();
  w->Key("parameters").BeginArray();
  for (const PatternPart& part : PatternParts(op.path)) {
    if (part.parameter) WritePathParameter(part.text, w);
  }
  if (route.access == Access::kUser || route.access == Access::kViewer ||
      route.access == Access::kSubject || route.access == Access::kSpanUsers) {
    w->BeginObject().Field("name", "X-User-Id").Field("in", "header").Field("required", false);
    w->Field("description",
             "The user to act for, with a function key or the admin key (a token names its own)");
    w->Key("schema").BeginObject().Field("type", "string").EndObject().EndObject();
  }
  w->EndArray();
  if (!route.body_type.empty()) {
    w->Key("requestBody").BeginObject().Field("required", true);
    w->Key("content").BeginObject();
    for (std::string_view type : BodyTypes(route)) {
      w->Key(type).BeginObject().Key("schema").BeginObject();
      if (type == "application/x-protobuf") {
        w->Field("type", "string").Field("format", "binary");
      } else {
        w->Field("type", "object");
      }
      w->EndObject().EndObject();
    }
    w->EndObject().EndObject();
  }
  WriteSecurity(route, w);
  w->Key("responses").BeginObject();
  const bool save = route.pattern == "/api/save_interaction";
  // A replay starts in the background: 202.
  const bool started = route.pattern == "/api/replays" && route.method == "POST";
  w->Key(save ? "201" : started ? "202" : "200").BeginObject().Field("description", "Success");
  std::string_view media = "application/json";
  if (route.pattern == "/metrics") media = "text/plain";
  if (route.pattern == "/" || route.pattern == "/index.html") media = "text/html";
  if (route.pattern == "/favicon.svg") media = "image/svg+xml";
  if (route.pattern == "/v1/traces") {
    // The ExportTraceServiceResponse comes in the request's encoding.
    w->Key("content").BeginObject();
    for (std::string_view type : BodyTypes(route)) w->Key(type).BeginObject().EndObject();
    w->EndObject();
  } else if (!route.pattern.ends_with("*")) {
    w->Key("content").BeginObject().Key(media).BeginObject().EndObject().EndObject();
  }
  w->EndObject();
  if (route.access != Access::kPublic) {
    WriteErrorResponse(w, "401", "No valid credential");
    WriteErrorResponse(w, "403", "A credential that may not call this");
  }
  WriteErrorResponse(w, "default", "An error: {\"status\": \"error\", \"error\": \"...\"}");
  w->EndObject();
  w->EndObject();
}

void WriteComponents(JsonWriter* w) {
  w->Key("components").BeginObject();
  w->Key("securitySchemes").BeginObject();
  w->Key("functionKey").BeginObject().Field("type", "apiKey").Field("in", "header")
      .Field("name", "x-functions-key")
      .Field("description", "The function's FUNCTION_CODE_<NAME> key (or the admin key)")
      .EndObject();
  w->Key("functionKeyQuery").BeginObject().Field("type", "apiKey").Field("in", "query")
      .Field("name", "code").Field("description", "The function key as a query parameter")
      .EndObject();
  w->Key("userToken").BeginObject().Field("type", "http").Field("scheme", "bearer")
      .Field("bearerFormat", "JWT")
      .Field("description", "A user's HS256 token signed with OMNIFLOW_JWT_SECRET (sub = user)")
      .EndObject();
  w->Key("adminKey").BeginObject().Field("type", "apiKey").Field("in", "header")
      .Field("name", "x-functions-key").Field("description", "OMNIFLOW_ADMIN_KEY").EndObject();
  w->Key("adminKeyBearer").BeginObject().Field("type", "http").Field("scheme", "bearer")
      .Field("description", "OMNIFLOW_ADMIN_KEY as a bearer token (GET /metrics only)")
      .EndObject();
  w->Key("functionKeyBearer").BeginObject().Field("type", "http").Field("scheme", "bearer")
      .Field("description",
             "The function's key or the admin key as a bearer token, as OpenAI clients send "
             "their API key (POST /v1/chat/completions only)")
      .EndObject();
  w->Key("azureApiKey").BeginObject().Field("type", "apiKey").Field("in", "header")
      .Field("name", "api-key")
      .Field("description",
             "As functionKeyBearer (a key or a user's token), in the header Azure OpenAI clients "
             "send")
      .EndObject();
  w->Key("metricsToken").BeginObject().Field("type", "http").Field("scheme", "bearer")
      .Field("description", "OMNIFLOW_METRICS_TOKEN, which reads GET /metrics and nothing else")
      .EndObject();
  w->EndObject();
  w->Key("schemas").BeginObject();
  w->Key("Error").BeginObject().Field("type", "object");
  w->Key("required").BeginArray().String("status").String("error").EndArray();
  w->Key("properties").BeginObject();
  w->Key("status").BeginObject().Field("const", "error").EndObject();
  w->Key("error").BeginObject().Field("type", "string").EndObject();
  w->Key("request_id").BeginObject().Field("type", "string").EndObject();
  w->EndObject().EndObject();
  w->EndObject();
  w->EndObject();
}

std::string MakeDocument() {
  std::vector<Operation> operations;
  for (const Route& route : Routes()) {
    operations.push_back({&route, OpenApiPath(route.pattern), false});
  }
  for (const Route& route : Routes()) {
    if (!route.proxy.empty()) operations.push_back({&route, ProxyPattern(route), true});
  }
  JsonWriter w;
  w.BeginObject().Field("openapi", "3.1.0");
  w.Key("info").BeginObject().Field("title", "omniflow").Field("version", OMNIFLOW_VERSION);
  w.Field("description",
          "Every interaction between users and an AI assistant, durable and isolated per user. "
          "Generated from the server's route table. In the open development mode (no credential "
          "configured) every route serves loopback callers without credentials. The rules and "
          "errors of each route are in docs/api.md.");
  w.EndObject();
  w.Key("paths").BeginObject();
  // Path items in the table's order, each with its methods.
  std::vector<std::string> done;
  for (const Operation& op : operations) {
    bool seen = false;
    for (const std::string& path : done) seen = seen || path == op.path;
    if (seen) continue;
    done.push_back(op.path);
    w.Key(op.path).BeginObject();
    for (const Operation& same : operations) {
      if (same.path != op.path) continue;
      std::string method(same.route->method);
      for (char& c : method) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      w.Key(method);
      WriteOperation(same, &w);
    }
    w.EndObject();
  }
  w.EndObject();
  WriteComponents(&w);
  w.EndObject();
  return w.Release();
}

}  // namespace

const std::string& OpenApiJson() {
  static const std::string document = MakeDocument();
  return document;
}

}  // namespace omniflow::api
