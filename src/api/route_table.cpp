// The route table itself, and what is derived from it without serving a request (the function
// names, the proxy_router paths, the Markdown table). Serving lives in dispatch.cpp.
#include "api/route_table.h"

#include <algorithm>

#include "api/analytics_handlers.h"
#include "api/audit.h"
#include "api/handlers.h"
#include "api/lifecycle_handlers.h"
#include "api/replay_handlers.h"

namespace omniflow::api {

namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kOtlpBody = "application/x-protobuf, application/json";

// method, pattern, function, access, body type, proxy name, worker, user_in_body, audit action,
// handler, summary[, keys_as_bearer, body_user_field]
constexpr Route kRoutes[] = {
    {"POST", "/api/save_interaction", "save_interaction", Access::kUser, kJson,
     "save_interaction", false, false, "", &SaveInteraction,
     "Save one interaction; 201 once it is durable"},
    {"POST", "/v1/traces", "otlp", Access::kSpanUsers, kOtlpBody, "", false, false, "",
     &OtlpTraces, "OTLP/HTTP trace export (protobuf or JSON, gzip): GenAI spans become interactions"},
    {"GET", "/api/get_interaction_history", "get_interaction_history", Access::kUser, "",
     "get_interaction_history", false, false, "", &GetInteractionHistory,
     "The caller's interactions, newest first, paged"},
    {"GET", "/api/interactions/{interaction_id}", "get_interaction", Access::kUser, "",
     "get_interaction", false, false, "", &GetInteraction, "One of the caller's interactions"},
    {"POST", "/api/interactions/{interaction_id}/feedback", "feedback", Access::kViewer, kJson,
     "", false, false, "feedback", &SetFeedback, "Feedback on an interaction (its owner's, or any with the admin key)"},
    {"POST", "/api/tool_call_handler", "tool_call_handler", Access::kUser, kJson,
     "tool_call_handler", true, true, "", &ToolCallHandler,
     "Run a message through the LLM with the data tools; logged"},
    {"POST", "/v1/chat/completions", "capture", Access::kUser, kJson, "", true, true, "",
     &CaptureChatCompletions,
     "OpenAI-compatible chat completions: forwarded to the configured provider and logged",
     true, "user"},
    {"POST", "/openai/deployments/{deployment}/chat/completions", "capture", Access::kUser, kJson,
     "", true, true, "", &CaptureChatCompletions,
     "The same for Azure OpenAI clients (api-key header; the deployment name is not used: the "
     "configured provider answers)",
     true, "user"},
    {"GET", "/api/get_data", "get_data", Access::kUser, "", "get_data", true, false, "", &GetData,
     "One of the caller's data documents"},
    {"GET", "/api/list_data", "list_data", Access::kUser, "", "list_data", true, false,
     "", &ListData, "The caller's data documents"},
    {"POST", "/api/add_new_data", "add_new_data", Access::kUser, kJson, "add_new_data", true,
     false, "", &AddNewData, "Add an entry to a data document"},
    {"POST", "/api/update_data", "update_data", Access::kUser, kJson, "update_data", true,
     false, "", &UpdateData, "Update an entry of a data document"},
    {"POST", "/api/delete_data", "delete_data", Access::kUser, kJson, "delete_data", true,
     false, "", &DeleteData, "Delete an entry of a data document"},
    {"GET", "/api/stats", "stats", Access::kViewer, "", "", false, false, "", &GetStats,
     "Usage statistics"},
    {"GET", "/api/users", "users", Access::kViewer, "", "", false, false, "", &ListUsers,
     "Users with interactions (the caller alone without the admin key)"},
    {"GET", "/api/threads", "threads", Access::kViewer, "", "", false, false, "", &ListThreads,
     "Conversation threads"},
    {"GET", "/api/threads/{thread_id}", "threads", Access::kViewer, "", "", false, false,
     "", &GetThread, "One thread's conversation, oldest first (user_id required)"},
    {"GET", "/api/search", "search", Access::kViewer, "", "", false, false, "", &Search,
     "Full-text search with filters"},
    {"GET", "/api/export", "export", Access::kViewer, "", "export", true, false, "export", &Export,
     "Interactions oldest first as jsonl, csv or openai, streamed (all users with the admin key)"},
    {"PUT", "/api/users/{user_id}/retention", "", Access::kAdmin, kJson, "", false, false,
     "retention_set", &SetRetention, "Set a user's retention override {\"days\": N} (0 keeps forever)"},
    {"GET", "/api/users/{user_id}/retention", "", Access::kAdmin, "", "", false, false,
     "retention_get", &GetRetention, "A user's effective retention policy and its source"},
    {"DELETE", "/api/users/{user_id}/retention", "", Access::kAdmin, "", "", false, false,
     "retention_delete", &DeleteRetention, "Remove a user's retention override"},
    {"PUT", "/api/users/{user_id}/hold", "", Access::kAdmin, kJson, "", false, false, "hold_set", &SetHold,
     "Put a user under legal hold {\"reason\": \"...\"}: never purged nor erased"},
    {"DELETE", "/api/users/{user_id}/hold", "", Access::kAdmin, "", "", false, false,
     "hold_release", &ReleaseHold, "Release a user's legal hold"},
    {"GET", "/api/holds", "", Access::kAdmin, "", "", false, false, "holds_list", &ListHolds,
     "Every legal hold"},
    {"POST", "/api/retention/run", "", Access::kAdmin, kJson, "", true, false, "retention_run", &RunRetention,
     "Purge by the retention policies now; answers the counts"},
    {"GET", "/api/audit", "", Access::kAdmin, "", "", false, false, "audit_read", &GetAudit,
     "The audit log, newest first, filtered and cursor-paged"},
    {"DELETE", "/api/users/{user_id}", "erase_user", Access::kSubject, "", "erase_user", true,
     false, "erase_user", &EraseUser, "Erase everything stored for a user; answers a signed receipt"},
    {"GET", "/api/receipts/public-key", "", Access::kPublic, "", "", false, false,
     "", &GetReceiptPublicKey, "The public key that verifies erasure receipts"},
    {"GET", "/api/chain/head", "", Access::kAdmin, "", "", false, false, "chain_head",
     &GetChainHead, "The hash chain's newest link {\"seq\", \"hash\"}, to anchor elsewhere"},
    {"POST", "/api/replays", "", Access::kAdmin, kJson, "", false, false, "replay_start",
     &StartReplay, "Replay historical interactions with a candidate model or prompt; 202 {\"replay_id\"}"},
    {"GET", "/api/replays", "", Access::kAdmin, "", "", false, false, "replay_list", &ListReplays,
     "Every replay, newest first, with its progress"},
    {"GET", "/api/replays/{replay_id}", "", Access::kAdmin, "", "", false, false, "replay_get",
     &GetReplay, "A replay's state, progress done/total and summary"},
    {"GET", "/api/replays/{replay_id}/results", "", Access::kAdmin, "", "", false, false,
     "replay_results", &GetReplayResults,
     "A replay's results beside their originals, paged (changed=true: changed ones only)"},
    {"DELETE", "/api/replays/{replay_id}", "", Access::kAdmin, "", "", false, false,
     "replay_delete", &DeleteReplay, "Cancel a replay and remove it with its results"},
    {"GET", "/metrics", "", Access::kMetrics, "", "", false, false, "", &GetMetrics,
     "Prometheus metrics (text format 0.0.4)"},
    {"GET", "/openapi.json", "", Access::kPublic, "", "", false, false, "", &GetOpenApi,
     "This API described in OpenAPI 3.1, generated from the route table"},
    {"GET", "/healthz", "", Access::kPublic, "", "", false, false, "", &Healthz,
     "200 while the store is writable"},
    {"GET", "/", "", Access::kPublic, "", "", false, false, "", &WebAsset, "The dashboard"},
    {"GET", "/index.html", "", Access::kPublic, "", "", false, false, "", &WebAsset, "The dashboard"},
    {"GET", "/favicon.svg", "", Access::kPublic, "", "", false, false, "", &WebAsset, "Its icon"},
    {"GET", "/assets/*", "", Access::kPublic, "", "", false, false, "", &WebAsset,
     "Its scripts and styles"},
};

}  // namespace

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kPublic: return "anyone";
    case Access::kUser: return "one user";
    case Access::kViewer: return "own user; all with admin key";
    case Access::kAdmin: return "admin key";
    case Access::kSubject: return "the user in the path; any with admin key";
    case Access::kSpanUsers: return "the users its spans name (a token: its own)";
    case Access::kMetrics: return "admin key or metrics token";
  }
  return "";
}

std::vector<std::string_view> BodyTypes(const Route& route) {
  std::vector<std::string_view> types;
  std::string_view rest = route.body_type;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view type = rest.substr(0, comma);
    while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
    if (!type.empty()) types.push_back(type);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return types;
}

namespace {

// Who is recorded in the audit log, and as what (besides 401/403 answers, always recorded).
std::string AuditColumn(const Route& route) {
  if (route.access == Access::kPublic) return "no";
  if (!route.audit.empty()) return "always: `" + std::string(route.audit) + "`";
  return "admin key: `" + std::string(AdminAuditAction(route)) + "`";
}

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

std::vector<std::string_view> FunctionNames() {
  std::vector<std::string_view> names;
  for (const Route& route : kRoutes) {
    if (route.function.empty()) continue;
    if (std::find(names.begin(), names.end(), route.function) == names.end()) {
      names.push_back(route.function);
    }
  }
  return names;
}

std::vector<PatternPart> PatternParts(std::string_view pattern) {
  std::vector<PatternPart> parts;
  for (size_t open = pattern.find('{'); open != std::string_view::npos; open = pattern.find('{')) {
    const size_t close = pattern.find('}', open);
    if (open > 0) parts.push_back({pattern.substr(0, open), false});
    parts.push_back({pattern.substr(open + 1, close - open - 1), true});
    pattern.remove_prefix(close + 1);
  }
  if (!pattern.empty()) parts.push_back({pattern, false});
  return parts;
}

std::string ProxyPattern(const Route& route) {
  if (route.proxy.empty()) return {};
  std::string path = "/api/proxy_router/" + std::string(route.proxy);
  for (const PatternPart& part : PatternParts(route.pattern)) {
    if (part.parameter) path += "/{" + std::string(part.text) + "}";
  }
  return path;
}

std::string_view AdminAuditAction(const Route& route) {
  if (route.access == Access::kPublic) return {};
  if (!route.audit.empty()) return route.audit;
  if (!route.function.empty()) return route.function;
  // A route of its own kind (/metrics): named by its last segment.
  return route.pattern.substr(route.pattern.rfind('/') + 1);
}

std::string RouteTableMarkdown() {
  std::string out =
      "| method | path | key (`FUNCTION_CODE_…`) | who may call | body | through proxy_router "
      "| audited |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const Route& route : kRoutes) {
    std::string key;
    if (route.access == Access::kAdmin) {
      key = "`OMNIFLOW_ADMIN_KEY` only";
    } else if (route.access == Access::kMetrics) {
      key = "`OMNIFLOW_ADMIN_KEY` or `OMNIFLOW_METRICS_TOKEN`";
    } else if (!route.function.empty()) {
      key = "`FUNCTION_CODE_";
      for (char c : route.function) key.push_back(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
      key += "`";
      if (route.keys_as_bearer) key += " (also as bearer)";
    } else {
      key = "none";
    }
    const std::string proxy = ProxyPattern(route);
    out += "| " + std::string(route.method) + " | `" + std::string(route.pattern) + "` | " + key +
           " | " + std::string(AccessName(route.access)) + " | " +
           (route.body_type.empty() ? std::string("-") : std::string(route.body_type)) + " | " +
           (proxy.empty() ? std::string("no") : "`" + proxy + "`") + " | " + AuditColumn(route) +
           " |\n";
  }
  return out;
}

}  // namespace omniflow::api
