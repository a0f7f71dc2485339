// Interactions captured, by the path that captured them: omniflow_interactions_captured_total
// {source}. Every source has its series from the start (0 until something is captured), so a
// rate over it is defined; proxy waits for its ingest path (issue 15). Spans received by OTLP
// ingest: omniflow_spans_received_total{source="otlp",outcome="accepted"|"rejected"}.
#pragma once

#include <cstdint>
#include <string_view>

namespace omniflow::metrics {

enum class CaptureSource {
  kSaveInteraction,  // POST /api/save_interaction, once durable (idempotent replays not counted)
  kToolCallHandler,  // the assistant's logged interactions, once committed or spooled
  kImport,           // omniflow import, in the process that imports
  kOtlp,             // OTLP/HTTP trace ingest, once a trace's interaction is durable
  kProxy,            // the OpenAI-compatible capture proxy (not yet)
};

void CountCaptured(CaptureSource source, uint64_t n = 1);

// Spans received by OTLP ingest: accepted (held for their trace, or not GenAI and ignored) and
// rejected (invalid, or naming a user the caller may not write).
void CountOtlpSpans(uint64_t accepted, uint64_t rejected);

// The label value of `source`.
std::string_view CaptureSourceName(CaptureSource source);

}  // namespace omniflow::metrics
