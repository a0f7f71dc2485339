#include "api/server_metrics.h"

#include <sys/stat.h>

namespace omniflow::api {

namespace {

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

void Collect(const ServerMetricsSources& s, metrics::ExpositionWriter* out) {
  if (s.writer != nullptr) {
    out->Family("omniflow_writer_queue_depth",
                "Interactions waiting for the group-commit writer", "gauge");
    out->Sample("omniflow_writer_queue_depth", {}, static_cast<double>(s.writer->queued()));
    out->Family("omniflow_writer_saves_total",
                "Interactions given to the writer, by outcome: committed, failed (the store "
                "refused the transaction) or rejected (queue full or stopping)",
                "counter");
    out->Sample("omniflow_writer_saves_total", {{"outcome", "committed"}},
                static_cast<double>(s.writer->committed()));
    out->Sample("omniflow_writer_saves_total", {{"outcome", "failed"}},
                static_cast<double>(s.writer->failed()));
    out->Sample("omniflow_writer_saves_total", {{"outcome", "rejected"}},
                static_cast<double>(s.writer->rejected()));
  }
  if (s.spool != nullptr) {
    out->Family("omniflow_spool_bytes",
                "Size of the spool's files: interactions waiting to be replayed into the store",
                "gauge");
    out->Sample("omniflow_spool_bytes", {},
                static_cast<double>(FileSize(s.spool->path()) +
                                    FileSize(s.spool->replaying_path())));
    out->Family("omniflow_spool_interactions_total",
                "Interactions written to the spool, and replayed from it into the store, since "
                "start",
                "counter");
    out->Sample("omniflow_spool_interactions_total", {{"event", "spooled"}},
                static_cast<double>(s.spool->spooled()));
    out->Sample("omniflow_spool_interactions_total", {{"event", "replayed"}},
                static_cast<double>(s.spool->replayed()));
  }
  if (s.logger != nullptr) {
    out->Family("omniflow_assistant_interactions_lost_total",
                "Assistant interactions that could be neither committed nor spooled", "counter");
    out->Sample("omniflow_assistant_interactions_lost_total", {},
                static_cast<double>(s.logger->lost()));
  }
  if (s.database != nullptr) {
    const Database::Gauges gauges = s.database->ReadGauges();
    if (gauges.size_bytes) {
      out->Family("omniflow_store_size_bytes",
                  "Size of the store on disk (SQLite: the database file and its WAL; PostgreSQL: "
                  "pg_database_size of its database)", "gauge");
      out->Sample("omniflow_store_size_bytes", {}, static_cast<double>(*gauges.size_bytes));
    }
    if (gauges.search_index_lag) {
      out->Family("omniflow_search_index_lag",
                  "Interactions committed but not yet searchable (SQLite's full-text index)",
                  "gauge");
      out->Sample("omniflow_search_index_lag", {}, static_cast<double>(*gauges.search_index_lag));
    }
  }
}

}  // namespace

metrics::Registry::CollectorHandle RegisterServerMetrics(ServerMetricsSources sources,
                                                         metrics::Registry* registry) {
  return registry->AddCollector(
      [sources](metrics::ExpositionWriter* out) { Collect(sources, out); });
}

}  // namespace omniflow::api
