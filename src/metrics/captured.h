// Interactions captured, by the path that captured them: omniflow_interactions_captured_total
// {source}. Every source has its series from the start (0 until something is captured), so a
// rate over it is defined; otlp and proxy wait for their ingest paths (issue 15).
#pragma once

#include <cstdint>
#include <string_view>

namespace omniflow::metrics {

enum class CaptureSource {
  kSaveInteraction,  // POST /api/save_interaction, once durable (idempotent replays not counted)
  kToolCallHandler,  // the assistant's logged interactions, once committed or spooled
  kImport,           // omniflow import, in the process that imports
  kOtlp,             // OTLP/HTTP trace ingest (not yet)
  kProxy,            // the OpenAI-compatible capture proxy (not yet)
};

void CountCaptured(CaptureSource source, uint64_t n = 1);

// The label value of `source`.
std::string_view CaptureSourceName(CaptureSource source);

}  // namespace omniflow::metrics
