// What every API handler needs, owned by main and shared read-only by the handlers: the store,
// the group-commit writer, the id generator, the authenticator, the users' data documents, the
// assistant (provider, worker threads, interaction logger), proxy_router's upstream, the
// per-user limit, the data lifecycle (retention, holds, erasure receipts) and the audit log.
#pragma once

#include <string>

#include "agent/agent.h"
#include "agent/interaction_logger.h"
#include "agent/provider.h"
#include "agent/recent_tool_calls.h"
#include "agent/spool.h"
#include "agent/worker_pool.h"
#include "api/user_gate.h"
#include "api/web_assets.h"
#include "auth/auth.h"
#include "core/ids.h"
#include "core/validate.h"
#include "http/router.h"
#include "lifecycle/receipt.h"
#include "lifecycle/retention.h"
#include "store/analytics_store.h"
#include "store/audit_store.h"
#include "store/audit_writer.h"
#include "store/chain_store.h"
#include "store/data_store.h"
#include "store/interaction_store.h"
#include "store/lifecycle_store.h"
#include "store/replay_store.h"
#include "replay/runner.h"
#include "store/pending_span_store.h"
#include "store/writer.h"

namespace omniflow::api {

// The assistant side: tool_call_handler runs on `workers`, never on the I/O threads.
struct AssistantContext {
  agent::ChatProvider* provider = nullptr;    // null: no provider configured (503)
  // The provider's settings, for the capture proxy's requests (not Configured(): 503).
  agent::ProviderOptions provider_options;
  // The capture proxy's newest requested tool calls, to link their results; null: the store's
  // history alone.
  agent::RecentToolCalls* recent_tool_calls = nullptr;
  agent::AgentOptions options;                // rounds, history bounds, model
  agent::WorkerPool* workers = nullptr;       // blocking LLM and upstream calls
  agent::InteractionLogger* logger = nullptr; // hands interactions to the writer, else the spool
  std::string assistant_id;                   // metadata.assistant_id of logged interactions
  bool log_interactions = true;               // false only to measure logging overhead
};

// Retention, legal holds and erasure (issue 13); the routes answer 503 without what they need.
struct LifecycleContext {
  LifecycleStore* store = nullptr;                    // overrides, holds, purge, erasure
  lifecycle::RetentionRunner* retention = nullptr;    // the purge; its options hold the default
  const lifecycle::ReceiptKey* receipt_key = nullptr; // signs erasure receipts
  agent::Spool* spool = nullptr;                      // erasure empties it of the user; null: none
  Clock* clock = nullptr;                             // erased_at, since; null: the real clock
  // Held by the OTLP trace assembler while it turns a user's held spans into interactions;
  // erasure holds it too, so that spans it takes are never written after it. Null: none.
  Mutex* otlp_assembly = nullptr;
};

// The audit log (api/audit.h): who did what to whose data.
struct AuditContext {
  AuditWriter* writer = nullptr;  // records audited requests; null: nothing is recorded
  AuditStore* store = nullptr;    // GET /api/audit reads it; null: 503
  Clock* clock = nullptr;         // the entries' ts; null: the real clock
};

// Replays (issue 16): the routes answer 503 without them.
struct ReplayContext {
  ReplayStore* store = nullptr;     // replays and their results
  replay::Runner* runner = nullptr; // starts, resumes and removes them
};

// OTLP/HTTP trace ingest (POST /v1/traces); 503 without a store for pending spans.
struct OtlpContext {
  PendingSpanStore* spans = nullptr;        // spans held until their trace is assembled
  size_t max_inflated_bytes = 16u << 20;    // a gzip body inflating to more is 413
  Clock* clock = nullptr;                   // when spans were received; null: the real clock
};

// proxy_router: in-process by default, or over HTTP to `upstream` (the route's own path there).
struct RouterContext {
  std::string upstream;  // OMNIFLOW_ROUTER_UPSTREAM; empty: in-process
  long upstream_timeout_ms = 120000;
};

struct ApiContext {
  InteractionStore* store = nullptr;
  Writer* writer = nullptr;
  IdGenerator* ids = nullptr;
  const Authenticator* auth = nullptr;
  DataStore* data = nullptr;
  AssistantContext assistant;
  RouterContext proxy;
  AnalyticsStore* analytics = nullptr;  // stats, search, feedback (issue 7)
  UserGate* gate = nullptr;             // per-user limit on worker-thread work; null: none
  // The embedded dashboard's files (omniflow_web's FindWebAsset); null: no dashboard (404).
  const WebAssetFile* (*find_web_asset)(std::string_view path) = nullptr;
  bool any_host = false;                // --insecure: the open mode answers any Host name
  BuildOptions build;                   // how every saved or logged interaction is stored
                                        // (its redactor: --redact)
  LifecycleContext lifecycle;
  AuditContext audit;
  ChainStore* chain = nullptr;          // the hash chain's head (issue 14); null: 503
  ReplayContext replays;
  OtlpContext otlp;                     // POST /v1/traces (issue 15)
};

// Registers every route of the route table (route_table.h), and their proxy_router forms, on
// `router`. `context` must outlive the router.
void RegisterRoutes(const ApiContext* context, http::Router* router);

}  // namespace omniflow::api
