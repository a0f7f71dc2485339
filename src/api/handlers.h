// The API's functions, one file each. Every handler is thin: it parses and validates the
// request, calls the store or writer, and builds the response; it never sees SQL or sockets.
#pragma once

#include "api/context.h"
#include "api/call.h"
#include "http/request.h"

namespace omniflow::api {

// POST /api/save_interaction: validates, stamps and queues one interaction; answers 201 once
// its transaction is durable.
void SaveInteraction(const ApiContext& context, const Call& call, http::Respond respond);
// POST /v1/traces (api/otlp.cpp).
void OtlpTraces(const ApiContext& context, const Call& call, http::Respond respond);

// GET /api/get_interaction_history?limit=&offset=&thread_id=&cursor=
void GetInteractionHistory(const ApiContext& context, const Call& call, http::Respond respond);

// GET /api/interactions/{interaction_id}: the caller's own interaction, else 404.
void GetInteraction(const ApiContext& context, const Call& call, http::Respond respond);

// POST /api/tool_call_handler {"message","user_id","thread_id"}: runs the message through the
// LLM with the data tools on a worker thread, answers, and logs the interaction (spooled when
// the store cannot take it).
void ToolCallHandler(const ApiContext& context, const Call& call, http::Respond respond);

// POST /v1/chat/completions: the OpenAI-compatible capture proxy. Forwards the request to the
// configured provider with the server's provider key, answers the provider's answer unchanged
// (server-sent events passed through as they arrive when "stream" is true), and logs the
// interaction off the answer's path (api/capture.cpp).
void CaptureChatCompletions(const ApiContext& context, const Call& call, http::Respond respond);

// The data functions over the caller's documents (the tools' operations, for a UI).
void GetData(const ApiContext& context, const Call& call, http::Respond respond);
void ListData(const ApiContext& context, const Call& call, http::Respond respond);
void AddNewData(const ApiContext& context, const Call& call, http::Respond respond);
void UpdateData(const ApiContext& context, const Call& call, http::Respond respond);
void DeleteData(const ApiContext& context, const Call& call, http::Respond respond);

// proxy_router's upstream mode: forwards a call the route table has authenticated for `route`
// to OMNIFLOW_ROUTER_UPSTREAM at the route's own path (parameters re-encoded), with an
// allow-list of headers, the caller's user, and only the function's own FUNCTION_CODE_<NAME>
// key (or the caller's own bearer token); never the admin key. In-process, proxy_router calls
// the route's handler directly with the caller's verified identity (dispatch.cpp).
struct Route;
void ForwardUpstream(const ApiContext& context, const Route& route, const Call& call,
                     http::Respond respond);

// GET /api/export?format=jsonl|csv|openai&user_id=&thread_id=&from=&to=: interactions oldest
// first, streamed as they are read (chunked), each piece made on the worker pool.
void Export(const ApiContext& context, const Call& call, http::Respond respond);

// GET /metrics (admin key or OMNIFLOW_METRICS_TOKEN): the Prometheus text format of
// metrics::Global(), which the server's parts record into.
void GetMetrics(const ApiContext& context, const Call& call, http::Respond respond);
// GET /openapi.json (public): OpenApiJson(), generated from the route table.
void GetOpenApi(const ApiContext& context, const Call& call, http::Respond respond);

// GET /healthz: 200 while the store is writable; needs no credentials.
void Healthz(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/chain/head (admin): {"seq", "hash": "sha256:..."}, the hash chain's newest link.
void GetChainHead(const ApiContext& context, const Call& call, http::Respond respond);

}  // namespace omniflow::api
