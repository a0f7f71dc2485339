#include "metrics/captured.h"

#include "metrics/registry.h"

namespace omniflow::metrics {

namespace {

constexpr CaptureSource kSources[] = {CaptureSource::kSaveInteraction,
                                      CaptureSource::kToolCallHandler, CaptureSource::kImport,
                                      CaptureSource::kOtlp, CaptureSource::kProxy};
constexpr size_t kCount = sizeof kSources / sizeof kSources[0];

Counter* const* Counters() {
  static Counter* const* counters = [] {
    static Counter* made[kCount];
    for (size_t i = 0; i < kCount; ++i) {
      made[i] = &Global().GetCounter("omniflow_interactions_captured_total",
                                     "Interactions captured, by the path that captured them",
                                     {{"source", std::string(CaptureSourceName(kSources[i]))}});
    }
    return made;
  }();
  return counters;
}

// Every source's series exists from the start, whoever records first.
[[maybe_unused]] const bool kRegistered = (Counters(), true);

Counter& SpanCounter(const char* outcome) {
  return Global().GetCounter("omniflow_spans_received_total",
                             "Spans received by OTLP trace ingest, accepted or rejected",
                             {{"source", "otlp"}, {"outcome", outcome}});
}

[[maybe_unused]] const bool kSpansRegistered =
    (SpanCounter("accepted"), SpanCounter("rejected"), true);

}  // namespace

void CountOtlpSpans(uint64_t accepted, uint64_t rejected) {
  static Counter& accepted_counter = SpanCounter("accepted");
  static Counter& rejected_counter = SpanCounter("rejected");
  if (accepted > 0) accepted_counter.Add(accepted);
  if (rejected > 0) rejected_counter.Add(rejected);
}

std::string_view CaptureSourceName(CaptureSource source) {
  switch (source) {
    case CaptureSource::kSaveInteraction: return "save_interaction";
    case CaptureSource::kToolCallHandler: return "tool_call_handler";
    case CaptureSource::kImport: return "import";
    case CaptureSource::kOtlp: return "otlp";
    case CaptureSource::kProxy: return "proxy";
  }
  return "unknown";
}

void CountCaptured(CaptureSource source, uint64_t n) {
  Counters()[static_cast<size_t>(source)]->Add(n);
}

}  // namespace omniflow::metrics
