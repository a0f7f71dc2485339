// omniflow's command line: wiring only. `serve` runs the HTTP server, `import` bulk-loads
// interactions, `migrate` brings the store's schema up to date, `token` mints a user token for
// development, `purge` applies the retention policies, `verify-receipt` checks an erasure
// receipt, `verify` walks the hash chain. Options also come from OMNIFLOW_*.
#include <algorithm>
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "agent/interaction_logger.h"
#include "agent/provider.h"
#include "agent/spool.h"
#include "agent/worker_pool.h"
#include "api/analytics_access.h"
#include "api/context.h"
#include "api/exporter.h"
#include "api/route_table.h"
#include "api/server_metrics.h"
#include "auth/auth.h"
#include "auth/jwt.h"
#include "cli/demo_data.h"
#include "cli/import.h"
#include "cli/lifecycle_commands.h"
#include "cli/replay_command.h"
#include "cli/verify_command.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "core/prices.h"
#include "core/validate.h"
#include "http/server.h"
#include "lifecycle/retention.h"
#include "metrics/request_metrics.h"
#include "redact/redactor.h"
#include "store/database.h"
#include "store/writer.h"
#include "otlp/trace_assembler.h"

namespace omniflow {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" ||
         host.rfind("127.", 0) == 0;
}

// Raises the soft limit on open files to the hard limit, so that thousands of connections fit.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// The assistant side's settings, from the command line and OMNIFLOW_* / OMNIFLOW_LLM_*.
struct AssistantSettings {
  std::string spool_dir;         // empty: <data-dir>/spool
  int worker_threads = 16;       // concurrent LLM calls and upstream requests
  size_t worker_queue = 1024;    // waiting beyond them before 503
  int max_tool_rounds = 8;
  std::string assistant_id;      // empty: derived from the model
  std::string router_upstream;   // empty: proxy_router calls the functions in-process
  int max_user_inflight = 4;     // one user's worker-thread requests in flight; 0: no limit
  bool log_interactions = true;
};

// Retention and erasure receipts, from the command line and OMNIFLOW_RETENTION_* /
// OMNIFLOW_RECEIPT_KEY_FILE.
struct LifecycleSettings {
  int retention_days = 0;                 // default policy; 0 keeps forever
  std::string retention_interval = "1h";  // between background purges
  int audit_retention_days = 400;         // audit entries kept; 0 keeps forever
  std::string receipt_key_file;           // empty: <data-dir>/receipt-key.pem, made if missing
};

// --redact and --redact-mode (serve and import), from the command line and OMNIFLOW_REDACT /
// OMNIFLOW_REDACT_MODE; the pseudonym key only ever from OMNIFLOW_PSEUDONYM_KEY.
struct RedactSettings {
  std::string types;          // comma list or "all"; empty: nothing is redacted
  std::string mode = "mask";  // mask or pseudonym
};

// The redactor the settings ask for (null for none), or exit status 2 after saying why.
bool MakeRedactor(const RedactSettings& settings, std::unique_ptr<redact::Redactor>* out) {
  Result<redact::RedactOptions> options = redact::ParseRedactOptions(
      settings.types, settings.mode, std::getenv("OMNIFLOW_PSEUDONYM_KEY"));
  if (!options.ok()) {
    std::cerr << "omniflow: " << options.status().message() << "\n";
    return false;
  }
  if (options->types == 0) return true;
  spdlog::info("event=redaction types={} mode={}", redact::PiiTypesText(options->types),
               settings.mode);
  *out = std::make_unique<redact::Redactor>(std::move(*options));
  return true;
}

// The price table of --prices FILE (or OMNIFLOW_PRICES), else the default one compiled in
// (docs/cost.md); false after saying why the file is not a valid price table.
bool LoadPrices(const std::string& file, PriceTable* out) {
  if (file.empty()) {
    *out = PriceTable::Default();
  } else {
    Result<PriceTable> table = PriceTable::Load(file);
    if (!table.ok()) {
      std::cerr << "omniflow: --prices " << table.status().message() << "\n";
      return false;
    }
    *out = std::move(*table);
  }
  spdlog::info("event=prices source={} as_of={} models={}", file.empty() ? "default" : "file",
               out->as_of(), out->size());
  return true;
}

int Serve(http::ServerOptions server_options, StoreOptions store_options,
          WriterOptions writer_options, AssistantSettings assistant,
          LifecycleSettings lifecycle_settings, const RedactSettings& redact_settings,
          const std::string& prices_file, bool insecure) {
  RaiseFileLimit();
  std::unique_ptr<redact::Redactor> redactor;
  if (!MakeRedactor(redact_settings, &redactor)) return 2;
  PriceTable prices;
  if (!LoadPrices(prices_file, &prices)) return 2;
  const std::vector<std::string_view> functions = api::FunctionNames();
  AuthOptions auth_options = AuthOptions::FromEnvironment(functions);
  if (!auth_options.environment_error.empty()) {
    std::cerr << "omniflow: " << auth_options.environment_error << "\n";
    return 2;
  }
  if (auth_options.AnyFunctionOpen()) {
    if (!IsLoopback(server_options.host) && !insecure) {
      std::cerr << "omniflow: refusing to listen on " << server_options.host
                << (auth_options.DevelopmentMode()
                        ? " with no credentials configured"
                        : " with functions open without credentials (OMNIFLOW_OPEN_FUNCTIONS)")
                << ".\nConfigure a credential (OMNIFLOW_ADMIN_KEY, OMNIFLOW_JWT_SECRET or a "
                   "FUNCTION_CODE_<NAME> key such as FUNCTION_CODE_SAVE_INTERACTION), unset "
                   "OMNIFLOW_OPEN_FUNCTIONS, listen on 127.0.0.1, or pass --insecure.\n";
      return 2;
    }
  }
  if (auth_options.DevelopmentMode()) {
    spdlog::warn(
        "event=open_mode msg=\"no credentials configured: every function is open, any caller "
        "may act as any X-User-Id, only loopback Host names and same-origin pages are served; "
        "for local development only\"");
  } else {
    std::string open;
    for (const std::string& name : auth_options.open_functions) open += (open.empty() ? "" : ",") + name;
    if (open.empty()) {
      spdlog::info("event=auth msg=\"every function needs a credential\"");
    } else {
      spdlog::warn("event=open_functions functions={} msg=\"these functions serve callers "
                   "without credentials, for any X-User-Id\"", open);
    }
  }
  if (server_options.host == "localhost") server_options.host = "127.0.0.1";
  Result<std::chrono::seconds> retention_interval =
      lifecycle::ParseInterval(lifecycle_settings.retention_interval);
  if (!retention_interval.ok()) {
    std::cerr << "omniflow: --retention-interval: " << retention_interval.status().message()
              << "\n";
    return 2;
  }
  Result<std::unique_ptr<lifecycle::ReceiptKey>> receipt_key =
      OpenReceiptKey(lifecycle_settings.receipt_key_file, store_options.data_dir);
  if (!receipt_key.ok()) {
    std::cerr << "omniflow: the erasure receipt key: " << receipt_key.status().message() << "\n";
    return 1;
  }

  Result<otlp::AssemblerOptions> otlp_options = otlp::AssemblerOptions::FromEnvironment();
  if (!otlp_options.ok()) {
    std::cerr << "omniflow: " << otlp_options.status().message() << "\n";
    return 2;
  }

  Result<std::unique_ptr<Database>> db = Database::Open(store_options);
  if (!db.ok()) {
    std::cerr << "omniflow: cannot open the store: " << db.status().message() << "\n";
    return 1;
  }
  InteractionStore* store = &(*db)->interactions();
  Writer writer(store, writer_options);
  // Interactions spooled while the store could not take them go in before anything new.
  agent::Spool spool(assistant.spool_dir.empty() ? store_options.data_dir + "/spool"
                                                 : assistant.spool_dir);
  agent::Spool::Commit commit = [&writer](std::vector<InteractionRecord> records) {
    return agent::CommitThroughWriter(&writer, std::move(records));
  };
  if (!spool.empty()) {
    Result<size_t> replayed = spool.Replay(store, commit);
    if (replayed.ok()) {
      spdlog::info("event=spool_replayed count={}", *replayed);
    } else {
      spdlog::warn("event=spool_replay_failed error=\"{}\"", replayed.status().message());
    }
  }
  spool.StartReplayLoop(store, commit, std::chrono::seconds(1));
  const IdSpace id_space = store->id_space();
  IdGenerator ids(Clock::Real(), id_space.slot, id_space.slots);
  Authenticator auth(std::move(auth_options));
  agent::ProviderOptions provider_options = agent::ProviderOptions::FromEnvironment();
  std::unique_ptr<agent::ChatProvider> provider;
  if (provider_options.Configured()) {
    provider = agent::NewOpenAiProvider(provider_options);
  } else {
    spdlog::warn("event=no_llm_provider msg=\"tool_call_handler and /v1/chat/completions "
                 "answer 503 until OMNIFLOW_LLM_BASE_URL and OMNIFLOW_LLM_MODEL are set\"");
  }
  agent::WorkerPool workers(assistant.worker_threads, assistant.worker_queue);
  api::UserGate gate(assistant.max_user_inflight);
  agent::InteractionLogger logger(&writer, &spool);
  agent::RecentToolCalls recent_tool_calls;
  lifecycle::RetentionOptions retention_options;
  retention_options.default_days = lifecycle_settings.retention_days;
  retention_options.interval = *retention_interval;
  retention_options.audit_days = lifecycle_settings.audit_retention_days;
  lifecycle::RetentionRunner retention(&(*db)->lifecycle(), Clock::Real(), retention_options,
                                       &(*db)->audit());
  AuditWriter audit_writer(&(*db)->audit());
  std::unique_ptr<replay::Runner> replays =
      NewReplayRunner(db->get(), provider_options, assistant.max_tool_rounds, &prices);

  api::ApiContext context;
  context.store = store;
  context.writer = &writer;
  context.ids = &ids;
  context.auth = &auth;
  context.data = &(*db)->data();
  context.analytics = &(*db)->analytics();
  context.assistant.provider = provider.get();
  context.assistant.provider_options = provider_options;
  context.assistant.recent_tool_calls = &recent_tool_calls;
  context.assistant.options.max_tool_rounds = assistant.max_tool_rounds;
  context.assistant.options.model = provider_options.model;
  context.assistant.workers = &workers;
  context.assistant.logger = &logger;
  context.assistant.log_interactions = assistant.log_interactions;
  context.assistant.assistant_id =
      !assistant.assistant_id.empty() ? assistant.assistant_id
      : provider_options.model.empty() ? std::string("omniflow-assistant")
                                       : "omniflow-" + provider_options.model;
  context.gate = &gate;
  context.find_web_asset = &api::FindWebAsset;
  context.any_host = insecure;
  context.build.redactor = redactor.get();
  context.build.prices = &prices;
  context.lifecycle.store = &(*db)->lifecycle();
  context.lifecycle.retention = &retention;
  context.lifecycle.receipt_key = receipt_key->get();
  context.lifecycle.spool = &spool;
  context.audit.writer = &audit_writer;
  context.audit.store = &(*db)->audit();
  context.chain = &(*db)->chain();
  context.replays.store = &(*db)->replays();
  context.replays.runner = replays.get();
  context.otlp.spans = &(*db)->pending_spans();
  context.otlp.max_inflated_bytes = std::max<size_t>(16u << 20, 8 * server_options.max_body);
  otlp::TraceAssembler assembler(&(*db)->pending_spans(), &writer, Clock::Real(), context.build,
                                 *otlp_options);
  context.lifecycle.otlp_assembly = assembler.assembly_mutex();
  http::Router router;
  context.proxy.upstream = assistant.router_upstream;
  while (!context.proxy.upstream.empty() && context.proxy.upstream.back() == '/') {
    context.proxy.upstream.pop_back();
  }
  api::RegisterRoutes(&context, &router);

  // GET /metrics: the server's parts, and every request by the route that served it.
  metrics::Registry::CollectorHandle server_metrics = api::RegisterServerMetrics(
      {&writer, &spool, &logger, db->get()}, &metrics::Global());
  std::vector<metrics::RequestMetrics::RouteName> route_names;
  for (size_t i = 0; i < router.size(); ++i) {
    route_names.push_back({std::string(router.method(i)), std::string(router.pattern(i))});
  }
  metrics::RequestMetrics request_metrics(std::move(route_names), &metrics::Global());
  server_options.on_answered = [&request_metrics](int route, int status,
                                                  std::chrono::microseconds duration) {
    request_metrics.Observe(route, status, duration);
  };

  http::Server server(server_options, &router);
  if (Status s = server.Listen(); !s.ok()) {
    std::cerr << "omniflow: " << s.message() << "\n";
    return 1;
  }
  spdlog::info("event=listening url=http://{}:{} store=\"{}\" threads={}", server_options.host,
               server.port(), (*db)->Describe(), server_options.threads);
  if (!store_options.hash_chain) {
    spdlog::warn("event=hash_chain_off msg=\"--unchained-benchmark: interactions are stored "
                 "without hash-chain links; omniflow verify will fail on them\"");
  }
  spdlog::info("event=lifecycle retention_days={} retention_interval_s={} receipt_key_id={} "
               "audit_retention_days={}",
               lifecycle_settings.retention_days, retention_interval->count(),
               (*receipt_key)->key_id(), lifecycle_settings.audit_retention_days);
  retention.Start();
  if (Status s = replays->ResumeAll(); !s.ok()) {
    spdlog::warn("event=replay_resume_failed error=\"{}\"", LogSafe(s.message()));
  }
  assembler.Start();
  std::printf("omniflow listening on http://%s:%u\n", server_options.host.c_str(),
              static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  server.Run([] { spdlog::info("event=stopping msg=\"draining in-flight requests\""); });
  retention.Stop();
  replays->Stop();  // unfinished replays resume at the next start
  workers.Stop();  // answers and logs what is in flight, through the writer
  assembler.Stop();  // writes through the writer too
  audit_writer.Stop();  // records what those answers audited
  writer.Stop();
  spdlog::info("event=stopped committed={} failed={} rejected={} spooled={} lost={}",
               writer.committed(), writer.failed(), writer.rejected(), logger.spooled(),
               logger.lost());
  return 0;
}

int RunImport(const std::string& path, StoreOptions store_options, size_t batch,
              const RedactSettings& redact_settings, const std::string& prices_file) {
  std::unique_ptr<redact::Redactor> redactor;
  if (!MakeRedactor(redact_settings, &redactor)) return 2;
  PriceTable prices;
  if (!LoadPrices(prices_file, &prices)) return 2;
  Result<std::unique_ptr<Database>> db = Database::Open(store_options);
  if (!db.ok()) {
    std::cerr << "omniflow: cannot open the store: " << db.status().message() << "\n";
    return 1;
  }
  ImportOptions options;
  options.batch_size = batch;
  options.build.redactor = redactor.get();
  options.build.prices = &prices;
  options.progress = [](const ImportStats& s) {
    const uint64_t seen = s.imported + s.already_present;
    if (seen % 100000 < 5000) {
      std::cerr << "imported " << s.imported << " interactions (" << s.already_present
                << " already present, " << s.conflicts << " conflicts, " << s.skipped
                << " skipped)\n";
    }
  };
  options.on_skip = [](const std::string& source, uint64_t line, const Status& why) {
    std::cerr << source << ":" << line << ": skipped: " << why.message() << "\n";
  };
  options.on_conflict = [](const std::string& source, uint64_t line, const std::string& user,
                           const std::string& id) {
    std::cerr << source << ":" << line << ": conflict: " << id << " of user " << user
              << " is already stored with different content; kept the stored one\n";
  };
  options.indexing_progress = [](int64_t indexed, int64_t total) {
    if (indexed % 100000 < 5000 || indexed == total) {
      std::cerr << "search index: " << indexed << " of " << total << " interactions\n";
    }
  };
  Result<ImportStats> stats = Import(path, &(*db)->interactions(), Clock::Real(), options);
  if (!stats.ok()) {
    std::cerr << "omniflow: import stopped: " << stats.status().message() << "\n";
    return 1;
  }
  std::cout << "imported " << stats->imported << " interactions, " << stats->already_present
            << " already present, " << stats->conflicts << " conflicts, " << stats->skipped
            << " skipped\n";
  return stats->skipped > 0 || stats->conflicts > 0 ? 3 : 0;
}

int RunExport(StoreOptions store_options, const std::string& format_name,
              const std::string& user, const std::string& thread, const std::string& from,
              const std::string& to, const std::string& output) {
  Result<api::ExportFormat> format = api::ParseExportFormat(format_name);
  if (!format.ok()) {
    std::cerr << "omniflow: --" << format.status().message() << "\n";
    return 2;
  }
  api::ExportFilter filter;
  if (!user.empty()) {
    if (!IsValidUserId(user)) {
      std::cerr << "omniflow: --user must be " << kUserIdRule << "\n";
      return 2;
    }
    filter.user_id = user;
  }
  if (!thread.empty()) {
    if (!IsValidThreadId(thread)) {
      std::cerr << "omniflow: --thread must be " << kThreadIdRule << "\n";
      return 2;
    }
    filter.thread_id = thread;
  }
  // The API's own reading of from/to: ISO 8601 UTC or a date, [from, to).
  Result<AnalyticsScope> range = api::TimeRange(from, to);
  if (!range.ok()) {
    std::cerr << "omniflow: --" << range.status().message() << "\n";
    return 2;
  }
  filter.from_us = range->from_us;
  filter.to_us = range->to_us;

  Result<std::unique_ptr<Database>> db = Database::Open(store_options);
  if (!db.ok()) {
    std::cerr << "omniflow: cannot open the store: " << db.status().message() << "\n";
    return 1;
  }
  std::FILE* out = stdout;
  if (!output.empty() && output != "-") {
    out = std::fopen(output.c_str(), "wb");
    if (out == nullptr) {
      std::cerr << "omniflow: cannot write " << output << ": " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  const bool progress = ::isatty(STDERR_FILENO) != 0;
  api::Exporter exporter(&(*db)->interactions(), *format, std::move(filter));
  std::string piece;
  bool done = false;
  const auto started = std::chrono::steady_clock::now();
  while (!done) {
    piece.clear();
    Result<bool> filled = exporter.Fill(&piece, 256 << 10);
    if (!filled.ok()) {
      std::cerr << (progress ? "\n" : "") << "omniflow: export stopped after " << exporter.rows()
                << " interactions: " << filled.status().message() << "\n";
      if (out != stdout) std::fclose(out);
      return 1;
    }
    done = *filled;
    if (std::fwrite(piece.data(), 1, piece.size(), out) != piece.size()) {
      std::cerr << (progress ? "\n" : "") << "omniflow: cannot write the export: "
                << std::strerror(errno) << "\n";
      if (out != stdout) std::fclose(out);
      return 1;
    }
    if (progress) std::cerr << "\rexported " << exporter.rows() << " interactions" << std::flush;
  }
  const bool closed = out == stdout ? std::fflush(out) == 0 : std::fclose(out) == 0;
  if (!closed) {
    std::cerr << (progress ? "\n" : "") << "omniflow: cannot write the export: "
              << std::strerror(errno) << "\n";
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (progress) std::cerr << "\r";
  std::cerr << "exported " << exporter.rows() << " interactions in " << seconds << " s\n";
  return 0;
}

int RunMigrate(const StoreOptions& store_options) {
  Result<MigrationReport> report = Database::Migrate(store_options);
  if (!report.ok()) {
    std::cerr << "omniflow: migration failed: " << report.status().message() << "\n";
    return 1;
  }
  std::cout << "applied " << report->applied << " migration" << (report->applied == 1 ? "" : "s")
            << "; schema version " << report->version << "\n";
  return 0;
}

int RunDemoData(StoreOptions store_options, int64_t count, int users, int days) {
  Result<std::unique_ptr<Database>> db = Database::Open(store_options);
  if (!db.ok()) {
    std::cerr << "omniflow: cannot open the store: " << db.status().message() << "\n";
    return 1;
  }
  DemoOptions options;
  options.interactions = count;
  options.users = users;
  options.days = days;
  // On a terminal, one line rewritten in place; elsewhere (a log, a pipe) a whole line at each
  // tenth of the way, so that no carriage returns end up in files.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  int64_t next_tenth = 1;
  options.progress = [tty, &next_tenth](int64_t written, int64_t total) {
    if (tty) {
      std::cerr << "\rdemo-data: " << written << " / " << total << " interactions" << std::flush;
      return;
    }
    if (total <= 0 || written * 10 < next_tenth * total) return;
    while (next_tenth <= 10 && written * 10 >= next_tenth * total) ++next_tenth;
    std::cerr << "demo-data: " << written << " / " << total << " interactions\n";
  };
  Result<int64_t> written =
      GenerateDemoData(options, &(*db)->interactions(), &(*db)->analytics());
  if (tty) std::cerr << "\n";
  if (!written.ok()) {
    std::cerr << "omniflow: demo-data stopped: " << written.status().message() << "\n";
    return 1;
  }
  std::cout << "wrote " << *written << " demo interactions for " << users << " users into "
            << (*db)->Describe() << "\n";
  return 0;
}

// Mints a token the server configured by the same environment accepts: the secret, the TTL cap,
// and the audience and issuer (the defaults of `aud` and `iss`) come from AuthOptions.
int RunToken(const std::string& sub, int64_t ttl, std::string aud, std::string iss) {
  if (!IsValidUserId(sub)) {
    std::cerr << "omniflow: --sub must be " << kUserIdRule << "\n";
    return 2;
  }
  AuthOptions auth = AuthOptions::FromEnvironment(api::FunctionNames());
  if (!auth.environment_error.empty()) {
    std::cerr << "omniflow: " << auth.environment_error << "\n";
    return 2;
  }
  if (!auth.jwt_secret) {
    std::cerr << "omniflow: set OMNIFLOW_JWT_SECRET to the server's secret first\n";
    return 2;
  }
  const int64_t max_ttl = auth.token_policy.max_ttl_seconds;
  if (ttl > max_ttl) {
    std::cerr << "omniflow: --ttl " << ttl << " is above the cap of " << max_ttl
              << " seconds (OMNIFLOW_JWT_MAX_TTL): the server would refuse the token\n";
    return 2;
  }
  if (aud.empty() && auth.token_policy.audience) aud = *auth.token_policy.audience;
  if (iss.empty() && auth.token_policy.issuer) iss = *auth.token_policy.issuer;
  if (!simdjson::validate_utf8(aud.data(), aud.size()) ||
      !simdjson::validate_utf8(iss.data(), iss.size())) {
    std::cerr << "omniflow: --aud and --iss must be UTF-8\n";
    return 2;
  }
  int64_t exp = Clock::Real()->NowMicros() / 1000000 + ttl;
  JsonWriter payload;
  payload.BeginObject().Field("sub", sub).Field("exp", exp);
  if (!aud.empty()) payload.Field("aud", aud);
  if (!iss.empty()) payload.Field("iss", iss);
  payload.EndObject();
  std::cout << SignHs256(payload.str(), *auth.jwt_secret) << "\n";
  return 0;
}

}  // namespace
}  // namespace omniflow

int main(int argc, char** argv) {
  using namespace omniflow;
  CLI::App app{"omniflow: a durable, per-user log of AI assistant interactions"};
  app.set_version_flag("--version", std::string("omniflow ") + OMNIFLOW_VERSION);
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")
      ->envname("OMNIFLOW_LOG_LEVEL");

  http::ServerOptions server_options;
  StoreOptions store_options;
  WriterOptions writer_options;
  bool insecure = false;
  RedactSettings redact_settings;
  // Redaction at ingest, for every command that stores interactions.
  auto add_redact = [&redact_settings](CLI::App* command) {
    command->add_option("--redact", redact_settings.types,
                        "Redact before storing: comma list of email,phone,card,iban,ip,secret, "
                        "or all (default: none)")
        ->envname("OMNIFLOW_REDACT");
    command->add_option("--redact-mode", redact_settings.mode,
                        "mask ([EMAIL]) or pseudonym ([EMAIL:8f3a2c1d], keyed by "
                        "OMNIFLOW_PSEUDONYM_KEY)")
        ->envname("OMNIFLOW_REDACT_MODE")->capture_default_str();
  };
  // Prices for the cost of each stored interaction's usage (docs/cost.md).
  std::string prices_file;
  auto add_prices = [&prices_file](CLI::App* command) {
    command->add_option("--prices", prices_file,
                        "Price table (JSON, per million tokens) for the cost of token usage "
                        "(default: the table compiled in, see docs/cost.md)")
        ->envname("OMNIFLOW_PRICES");
  };
  auto* serve = app.add_subcommand("serve", "Run the HTTP server");
  serve->add_option("--host", server_options.host, "Address to listen on")
      ->envname("OMNIFLOW_HOST")->capture_default_str();
  serve->add_option("--port", server_options.port, "Port (0 picks a free one)")
      ->envname("OMNIFLOW_PORT")->capture_default_str();
  serve->add_option("--data-dir", store_options.data_dir, "Directory of the embedded store")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  serve->add_option("--store", store_options.url,
                    "Store URL (default: SQLite in --data-dir; postgresql://... for PostgreSQL)")
      ->envname("OMNIFLOW_STORE");
  serve->add_option("--threads", server_options.threads, "I/O threads (0: one per core)")
      ->envname("OMNIFLOW_THREADS")->check(CLI::Range(0, 256))->capture_default_str();
  serve->add_option("--max-body", server_options.max_body, "Largest request body in bytes")
      ->envname("OMNIFLOW_MAX_BODY")->check(CLI::Range(1024, 64 << 20))->capture_default_str();
  int read_timeout_s = static_cast<int>(server_options.read_timeout.count());
  serve->add_option("--read-timeout", read_timeout_s,
                    "Seconds a connection may take to send one request (idle keep-alive included)")
      ->envname("OMNIFLOW_READ_TIMEOUT")->check(CLI::Range(1, 3600))->capture_default_str();
  serve->add_option("--max-connections", server_options.max_connections,
                    "Open connections at most; further ones are closed at once")
      ->envname("OMNIFLOW_MAX_CONNECTIONS")->check(CLI::Range(1, 1000000))->capture_default_str();
  serve->add_option("--max-queue", writer_options.max_queue,
                    "Saves waiting for the writer before new ones get 503 with Retry-After")
      ->envname("OMNIFLOW_MAX_QUEUE")->check(CLI::Range(1, 1000000))->capture_default_str();
  serve->add_option("--pg-write-connections", store_options.pg_write_connections,
                    "PostgreSQL: writer connections committing batches in parallel (each batch's "
                    "inserts overlap the commit before it; 1: one batch at a time). Try 2-4 when "
                    "the database is on its own machine")
      ->envname("OMNIFLOW_PG_WRITE_CONNECTIONS")->check(CLI::Range(1, 16))->capture_default_str();
  AssistantSettings assistant;
  serve->add_option("--spool-dir", assistant.spool_dir,
                    "Where interactions wait when the store cannot take them (default: <data-dir>/spool)")
      ->envname("OMNIFLOW_SPOOL_DIR");
  serve->add_option("--agent-threads", assistant.worker_threads,
                    "Threads for LLM calls, data functions and upstream requests")
      ->envname("OMNIFLOW_AGENT_THREADS")->check(CLI::Range(1, 1024))->capture_default_str();
  serve->add_option("--max-tool-rounds", assistant.max_tool_rounds,
                    "Model calls that may ask for tools, per message")
      ->envname("OMNIFLOW_MAX_TOOL_ROUNDS")->check(CLI::Range(1, 64))->capture_default_str();
  serve->add_option("--assistant-id", assistant.assistant_id,
                    "metadata.assistant_id of logged interactions (default: from the model)")
      ->envname("OMNIFLOW_ASSISTANT_ID");
  serve->add_option("--router-upstream", assistant.router_upstream,
                    "proxy_router forwards to {URL}/api/{function} instead of in-process")
      ->envname("OMNIFLOW_ROUTER_UPSTREAM");
  serve->add_option("--max-user-inflight", assistant.max_user_inflight,
                    "One user's LLM, data-function and upstream requests in flight at most "
                    "(beyond: 429); 0 for no limit")
      ->envname("OMNIFLOW_MAX_USER_INFLIGHT")->check(CLI::Range(0, 1024))->capture_default_str();
  bool unchained = false;
  serve->add_flag("--unchained-benchmark", unchained,
                  "Store interactions without hash-chain links (only to measure the chain's cost; "
                  "`omniflow verify` then fails)")
      ->group("");
  serve->add_flag("--erasure-vacuum,!--no-erasure-vacuum", store_options.erasure_vacuum,
                  "SQLite: end every erasure with VACUUM (the default), so that no copy of the "
                  "erased rows stays in free space inside the database's pages; saves wait while "
                  "it runs. --no-erasure-vacuum skips it (docs/lifecycle.md)")
      ->envname("OMNIFLOW_ERASURE_VACUUM")->capture_default_str();
  serve->add_option("--sqlite-page-size-benchmark", store_options.sqlite_page_size,
                    "SQLite page size of a new store, in bytes (only to measure its effect; an "
                    "existing store keeps its own)")
      ->check(CLI::IsMember({1024, 2048, 4096, 8192, 16384, 32768, 65536}))
      ->group("");
  bool no_agent_log = false;
  serve->add_flag("--no-agent-log", no_agent_log,
                  "Do not log tool_call_handler interactions (only to measure logging overhead)")
      ->envname("OMNIFLOW_NO_AGENT_LOG");
  // The SQLite WAL's checkpoint size, for every command that writes the store.
  auto add_checkpoint_pages = [&store_options](CLI::App* command) {
    command->add_option("--sqlite-checkpoint-pages", store_options.sqlite_checkpoint_pages,
                        "SQLite WAL pages that wake the checkpoint thread; at 4x, the commit "
                        "that crosses them checkpoints and restarts the WAL itself")
        ->envname("OMNIFLOW_SQLITE_CHECKPOINT_PAGES")->check(CLI::Range(1, 1000000))
        ->capture_default_str();
  };
  add_checkpoint_pages(serve);
  add_redact(serve);
  add_prices(serve);
  LifecycleSettings lifecycle_settings;
  serve->add_option("--retention-days", lifecycle_settings.retention_days,
                    "Days interactions are kept for users without an override (0: forever)")
      ->envname("OMNIFLOW_RETENTION_DAYS")->check(CLI::Range(0, 36500))->capture_default_str();
  serve->add_option("--retention-interval", lifecycle_settings.retention_interval,
                    "Time between background purges: 90s, 15m, 1h, 2d")
      ->envname("OMNIFLOW_RETENTION_INTERVAL")->capture_default_str();
  serve->add_option("--audit-retention-days", lifecycle_settings.audit_retention_days,
                    "Days audit log entries are kept (0: forever)")
      ->envname("OMNIFLOW_AUDIT_RETENTION_DAYS")->check(CLI::Range(0, 36500))
      ->capture_default_str();
  serve->add_option("--receipt-key-file", lifecycle_settings.receipt_key_file,
                    "PEM Ed25519 private key that signs erasure receipts (default: "
                    "<data-dir>/receipt-key.pem, made at first start)")
      ->envname("OMNIFLOW_RECEIPT_KEY_FILE");
  serve->add_flag("--insecure", insecure,
                  "Allow listening on a non-loopback address with functions open without "
                  "credentials, and answer any Host name in the open mode")
      ->envname("OMNIFLOW_INSECURE");

  std::string import_path;
  size_t import_batch = 5000;
  auto* import = app.add_subcommand(
      "import", "Bulk-load interactions from JSON Lines or a legacy users/ blob directory");
  import->add_option("path", import_path, "File (.jsonl), - for stdin, or legacy directory")
      ->required();
  import->add_option("--data-dir", store_options.data_dir, "Directory of the embedded store")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  import->add_option("--store", store_options.url, "Store URL")->envname("OMNIFLOW_STORE");
  import->add_option("--batch", import_batch, "Interactions per transaction")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  add_checkpoint_pages(import);
  add_redact(import);
  add_prices(import);

  std::string export_format, export_user, export_thread, export_from, export_to, export_output;
  auto* export_cmd = app.add_subcommand(
      "export", "Write interactions oldest first as jsonl, csv or openai (fine-tuning)");
  export_cmd->add_option("--data-dir", store_options.data_dir, "Directory of the embedded store")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  export_cmd->add_option("--store", store_options.url, "Store URL")->envname("OMNIFLOW_STORE");
  export_cmd->add_option("--format", export_format, "jsonl, csv or openai")->required();
  export_cmd->add_option("--user", export_user, "Only this user (default: every user)");
  export_cmd->add_option("--thread", export_thread, "Only this thread");
  export_cmd->add_option("--from", export_from, "From this time on (ISO 8601 UTC or a date)");
  export_cmd->add_option("--to", export_to, "Before this time (ISO 8601 UTC or a date)");
  export_cmd->add_option("-o,--output", export_output, "File to write (default: standard output)");

  auto* migrate = app.add_subcommand(
      "migrate", "Apply the store's pending schema migrations (servers also do this at start)");
  migrate->add_option("--data-dir", store_options.data_dir, "Directory of the embedded store")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  migrate->add_option("--store", store_options.url,
                      "Store URL (default: SQLite in --data-dir; postgresql://... for PostgreSQL)")
      ->envname("OMNIFLOW_STORE");

  int64_t demo_count = 20000;
  int demo_users = 40;
  int demo_days = 30;
  auto* demo = app.add_subcommand(
      "demo-data", "Fill the store with a multilingual demo set (threads, tool calls, feedback)");
  demo->add_option("--data-dir", store_options.data_dir, "Directory of the embedded store")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  demo->add_option("--store", store_options.url, "Store URL")->envname("OMNIFLOW_STORE");
  demo->add_option("--count", demo_count, "Interactions to generate")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}))->capture_default_str();
  demo->add_option("--users", demo_users, "Distinct users")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  demo->add_option("--days", demo_days, "Days of history, ending now")
      ->check(CLI::Range(1, 3650))->capture_default_str();
  add_checkpoint_pages(demo);

  std::string token_sub;
  int64_t token_ttl = 3600;
  auto* token = app.add_subcommand("token", "Print an HS256 user token signed with OMNIFLOW_JWT_SECRET");
  token->add_option("--sub", token_sub, "The user id the token stands for")->required();
  token->add_option("--ttl", token_ttl, "Seconds until it expires, at most OMNIFLOW_JWT_MAX_TTL")
      ->capture_default_str();
  std::string token_aud;
  std::string token_iss;
  token->add_option("--aud", token_aud, "Audience claim (default: OMNIFLOW_JWT_AUDIENCE)");
  token->add_option("--iss", token_iss, "Issuer claim (default: OMNIFLOW_JWT_ISSUER)");

  app.add_subcommand("routes", "Print the route table (method, path, key, access) as Markdown");

  bool purge_dry_run = false;
  auto* purge = app.add_subcommand(
      "purge", "Purge interactions past their retention policy (overrides and holds apply)");
  purge->add_option("--data-dir", store_options.data_dir, "Directory of the embedded store")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  purge->add_option("--store", store_options.url, "Store URL")->envname("OMNIFLOW_STORE");
  purge->add_option("--retention-days", lifecycle_settings.retention_days,
                    "Days kept for users without an override (0: forever)")
      ->envname("OMNIFLOW_RETENTION_DAYS")->check(CLI::Range(0, 36500))->capture_default_str();
  purge->add_option("--audit-retention-days", lifecycle_settings.audit_retention_days,
                    "Days audit log entries are kept (0: forever)")
      ->envname("OMNIFLOW_AUDIT_RETENTION_DAYS")->check(CLI::Range(0, 36500))
      ->capture_default_str();
  purge->add_flag("--dry-run", purge_dry_run, "Count only; delete nothing");

  std::string receipt_file;
  std::string receipt_public_key;
  auto* verify = app.add_subcommand("verify-receipt", "Check an erasure receipt's signature");
  verify->add_option("file", receipt_file, "The receipt (or the erase answer holding it)")
      ->required();
  verify->add_option("--public-key", receipt_public_key,
                     "PEM public key file (GET /api/receipts/public-key); default: the key in "
                     "OMNIFLOW_RECEIPT_KEY_FILE or the data dir");
  verify->add_option("--data-dir", store_options.data_dir, "Directory holding receipt-key.pem")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  verify->add_option("--receipt-key-file", lifecycle_settings.receipt_key_file,
                     "The server's private key file")
      ->envname("OMNIFLOW_RECEIPT_KEY_FILE");

  int64_t chain_from_seq = 1;
  std::string chain_expect_head;
  auto* verify_chain = app.add_subcommand(
      "verify", "Verify the hash chain of stored interactions and audit entries");
  verify_chain->add_option("--data-dir", store_options.data_dir, "Directory of the embedded store")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  verify_chain->add_option("--store", store_options.url, "Store URL")->envname("OMNIFLOW_STORE");
  verify_chain->add_option("--from-seq", chain_from_seq,
                           "Start at this seq, trusting the hash stored before it")
      ->check(CLI::PositiveNumber);
  verify_chain->add_option("--expect-head", chain_expect_head,
                           "An anchor read earlier from GET /api/chain/head: it must be the hash "
                           "of a verified record");

  ReplayCommand replay_command;
  std::string replay_prompt_file;
  auto* replay = app.add_subcommand(
      "replay", "Replay historical interactions with a candidate model or system prompt; exit "
                "1 when failures were introduced (docs/replay.md)");
  replay->add_option("--data-dir", store_options.data_dir, "Directory of the embedded store")
      ->envname("OMNIFLOW_DATA_DIR")->capture_default_str();
  replay->add_option("--store", store_options.url, "Store URL")->envname("OMNIFLOW_STORE");
  replay->add_option("--filter", replay_command.filter,
                     "Search's parameters as a query string, e.g. \"status=failed&tool=get_data\"");
  replay->add_option("--model", replay_command.model, "The candidate model");
  replay->add_option("--system-prompt", replay_prompt_file, "The candidate system prompt's file");
  replay->add_option("--base-url", replay_command.base_url,
                     "The candidate's provider (no API key is sent to another URL)");
  replay->add_option("--limit", replay_command.limit, "Interactions to replay (1-10000)")
      ->capture_default_str();
  replay->add_option("--sample", replay_command.sample, "newest or random")->capture_default_str();
  replay->add_option("--concurrency", replay_command.concurrency, "Items at once (1-16)")
      ->capture_default_str();
  replay->add_option("--name", replay_command.name, "The replay's name")->capture_default_str();
  add_prices(replay);

  CLI11_PARSE(app, argc, argv);
  if (!InitLogging(log_level)) {
    std::cerr << "omniflow: unknown --log-level " << log_level << "\n";
    return 2;
  }
  server_options.read_timeout = std::chrono::seconds(read_timeout_s);
  assistant.log_interactions = !no_agent_log;
  store_options.hash_chain = !unchained;
  if (*serve) {
    return Serve(server_options, store_options, writer_options, assistant, lifecycle_settings,
                 redact_settings, prices_file, insecure);
  }
  if (*purge) {
    return RunPurge(store_options, lifecycle_settings.retention_days,
                    lifecycle_settings.audit_retention_days, purge_dry_run);
  }
  if (*verify) {
    return RunVerifyReceipt(receipt_file, receipt_public_key, lifecycle_settings.receipt_key_file,
                            store_options.data_dir);
  }
  if (*replay) {
    if (!replay_prompt_file.empty()) replay_command.system_prompt_file = replay_prompt_file;
    PriceTable prices;
    if (!LoadPrices(prices_file, &prices)) return 2;
    return RunReplayCommand(store_options, replay_command, prices);
  }
  if (*verify_chain) return RunVerify(store_options, chain_from_seq, chain_expect_head);
  if (*import) {
    return RunImport(import_path, store_options, import_batch, redact_settings, prices_file);
  }
  if (*export_cmd) {
    return RunExport(store_options, export_format, export_user, export_thread, export_from,
                     export_to, export_output);
  }
  if (*migrate) return RunMigrate(store_options);
  if (*token) return RunToken(token_sub, token_ttl, token_aud, token_iss);
  if (*demo) return RunDemoData(store_options, demo_count, demo_users, demo_days);
  if (app.got_subcommand("routes")) {
    std::cout << api::RouteTableMarkdown();
    return 0;
  }
  return 2;
}
