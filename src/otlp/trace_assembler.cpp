#include "otlp/trace_assembler.h"

#include <algorithm>
#include <cstdlib>
#include <future>

#include <spdlog/spdlog.h>

#include "core/digest.h"
#include "metrics/captured.h"
#include "otlp/genai_mapping.h"

namespace omniflow::otlp {

namespace {

Status ReadMillis(const char* name, std::chrono::milliseconds* out) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return Status::Ok();
  char* end = nullptr;
  const long long ms = std::strtoll(v, &end, 10);
  if (*end != '\0' || ms < 1 || ms > 7LL * 24 * 3600 * 1000) {
    return Status::InvalidArgument(std::string(name) +
                                   " must be a whole number of milliseconds, 1 to 604800000");
  }
  *out = std::chrono::milliseconds(ms);
  return Status::Ok();
}

}  // namespace

Result<AssemblerOptions> AssemblerOptions::FromEnvironment() {
  AssemblerOptions options;
  if (Status s = ReadMillis("OMNIFLOW_OTLP_QUIET_MS", &options.quiet); !s.ok()) return s;
  const char* parent_wait = std::getenv("OMNIFLOW_OTLP_PARENT_WAIT_MS");
  if (parent_wait == nullptr || *parent_wait == '\0') {
    options.parent_wait = std::max(options.parent_wait, options.quiet);
  } else if (Status s = ReadMillis("OMNIFLOW_OTLP_PARENT_WAIT_MS", &options.parent_wait); !s.ok()) {
    return s;
  } else if (options.parent_wait < options.quiet) {
    return Status::InvalidArgument(
        "OMNIFLOW_OTLP_PARENT_WAIT_MS must be at least OMNIFLOW_OTLP_QUIET_MS");
  }
  if (Status s = ReadMillis("OMNIFLOW_OTLP_EXPIRE_MS", &options.expire); !s.ok()) return s;
  return options;
}

std::string OtlpInteractionId(int64_t start_us, std::string_view user, std::string_view trace_id,
                              std::string_view span_id) {
  const std::string digest =
      Sha256Hex(std::string(user) + "\n" + std::string(trace_id) + "\n" + std::string(span_id));
  std::string id = FormatInteractionId(start_us) + "_";
  for (char c : std::string_view(digest).substr(0, 16)) {
    id.push_back(c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return id;
}

TraceAssembler::TraceAssembler(PendingSpanStore* spans, Writer* writer, Clock* clock,
                               BuildOptions build, AssemblerOptions options)
    : spans_(spans), writer_(writer), clock_(clock), build_(build), options_(options) {}

TraceAssembler::~TraceAssembler() { Stop(); }

void TraceAssembler::Start() {
  std::chrono::milliseconds poll = options_.poll;
  if (poll.count() == 0) {
    poll = std::clamp(options_.quiet / 4, std::chrono::milliseconds(20),
                      std::chrono::milliseconds(1000));
  }
  thread_ = std::thread([this, poll] {
    while (true) {
      {
        MutexLock lock(&mu_);
        const auto deadline = std::chrono::steady_clock::now() + poll;
        while (!stopping_ && wake_.WaitUntil(&mu_, deadline)) {
        }
        if (stopping_) return;
      }
      Result<int> done = RunOnce();
      if (!done.ok()) {
        spdlog::warn("event=otlp_assembly_failed error=\"{}\"", done.status().message());
      }
    }
  });
}

void TraceAssembler::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

Result<bool> TraceAssembler::Write(InteractionRecord record) {
  auto done = std::make_shared<std::promise<SaveOutcome>>();
  std::future<SaveOutcome> outcome = done->get_future();
  Status queued = writer_->Submit(std::move(record),
                                  [done](const SaveOutcome& saved) { done->set_value(saved); });
  if (!queued.ok()) return queued;
  SaveOutcome saved = outcome.get();
  if (!saved.status.ok()) return saved.status;
  return !saved.prior.has_value();
}

Result<int> TraceAssembler::RunOnce() {
  const int64_t now = clock_->NowMicros();
  auto before = [now](std::chrono::milliseconds ago) {
    return now - std::chrono::duration_cast<std::chrono::microseconds>(ago).count();
  };
  PendingSpanStore::DueTimes times;
  times.quiet_before_us = before(options_.quiet);
  times.parent_wait_before_us = before(std::max(options_.parent_wait, options_.quiet));
  times.expire_before_us = before(options_.expire);
  Result<std::vector<PendingTrace>> due = spans_->Due(times, options_.traces_per_round);
  if (!due.ok()) return due.status();
  int stored = 0;
  for (const PendingTrace& trace : *due) {
    MutexLock assembling(&assembly_mu_);
    Result<PendingSpanStore::TraceSpans> held = spans_->Spans(trace);
    if (!held.ok()) return held.status();
    if (held->jsons.empty()) continue;
    const bool expired = held->oldest_received_us < times.expire_before_us;
    // A span arrived since Due looked: the trace is not quiet any more.
    if (held->newest_received_us >= times.quiet_before_us && !expired) continue;
    // A chat span whose parent has not arrived may be part of a longer agent turn: it waits
    // (parked, so that it is not read every round) until its ancestry arrives or the trace has
    // been quiet for parent_wait; then it is written on its own (an agent span arriving even
    // later makes an interaction of its own).
    const bool waited = held->newest_received_us < times.parent_wait_before_us;
    if (!expired && !waited && !AncestryComplete(held->jsons)) {
      if (Status parked = spans_->Park(trace, held->newest_received_us); !parked.ok()) {
        return parked;
      }
      continue;
    }
    for (const MappedInteraction& mapped : MapTrace(held->jsons)) {
      Result<SaveRequest> parsed = ParseSaveRequest(mapped.save_body);
      if (!parsed.ok()) {
        // Never the content: the trace and span ids say which, the reason says why.
        spdlog::warn("event=otlp_interaction_invalid trace_id={} span_id={} error=\"{}\"",
                     mapped.trace_id, mapped.span_id, parsed.status().message());
        continue;
      }
      const int64_t ts = mapped.start_us > 0 ? mapped.start_us : held->oldest_received_us;
      Stamp stamp{ts, OtlpInteractionId(ts, trace.user_id, mapped.trace_id, mapped.span_id),
                  FormatTimestamp(ts)};
      InteractionRecord record = BuildInteraction(stamp, trace.user_id, std::move(*parsed), build_);
      record.idempotency =
          IdempotencyKey{"otlp:" + mapped.trace_id + ":" + mapped.span_id, Sha256Hex(mapped.save_body)};
      Result<bool> written = Write(std::move(record));
      // Not written: the trace stays held and is tried again next round.
      if (!written.ok()) return written.status();
      if (*written) {
        ++stored;
        metrics::CountCaptured(metrics::CaptureSource::kOtlp);
      }
    }
    if (Result<int64_t> removed = spans_->Remove(trace, held->newest_received_us); !removed.ok()) {
      return removed.status();
    }
  }
  return stored;
}

}  // namespace omniflow::otlp
