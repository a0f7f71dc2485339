// The gauges and counters /metrics reads from a running server's parts when it is scraped:
// the group-commit writer (queue depth, saves committed, failed and refused), the spool (its
// files' size, interactions spooled and replayed, assistant interactions lost) and the store
// (its size on disk and the search index's lag, where the engine tells them).
#pragma once

#include "agent/interaction_logger.h"
#include "agent/spool.h"
#include "metrics/registry.h"
#include "store/database.h"
#include "store/writer.h"

namespace omniflow::api {

struct ServerMetricsSources {
  Writer* writer = nullptr;                    // null: no writer series
  agent::Spool* spool = nullptr;               // null: no spool series
  agent::InteractionLogger* logger = nullptr;  // null: no lost series
  Database* database = nullptr;                // null: no store series
};

// Registers a collector of `sources` on `registry`; it reads them while the handle lives.
// REQUIRES: the sources outlive the handle.
[[nodiscard]] metrics::Registry::CollectorHandle RegisterServerMetrics(
    ServerMetricsSources sources, metrics::Registry* registry);

}  // namespace omniflow::api
