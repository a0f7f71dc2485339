// The trace assembler: turns the OTLP spans held in the store (store/pending_span_store.h) into
// interactions once their trace has been quiet for `quiet` (no span of it received since) and
// the ancestry of its chat / invoke_agent spans has arrived (otlp::AncestryComplete), so that
// spans sent in several exports and in any order are joined: one interaction per outermost
// chat / invoke_agent span (otlp/genai_mapping.h), written through the group-commit Writer with
// an idempotency key of trace and span id and an interaction id made from the span's start and
// id, so a trace assembled twice (a retry, a crash between the write and the removal, two
// servers on one database) is stored once. A chat span whose parent is missing (an agent turn
// longer than `quiet`, whose agent span ends and is exported last) waits for it until the
// trace has been quiet for `parent_wait`, then is written on its own. A trace with no chat /
// invoke_agent span is dropped after `expire`, or after `parent_wait` when it holds only the
// ids of spans without gen_ai.* attributes. Runs on a thread of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "core/ids.h"
#include "core/mutex.h"
#include "core/status.h"
#include "core/validate.h"
#include "store/pending_span_store.h"
#include "store/writer.h"

namespace omniflow::otlp {

struct AssemblerOptions {
  // How long a trace must receive no span before its interactions are written
  // (OMNIFLOW_OTLP_QUIET_MS). Longer than the exporters' batch delay (5 s by default) joins
  // more late spans; shorter makes interactions appear sooner.
  std::chrono::milliseconds quiet{10000};
  // How long a trace whose chat / invoke_agent span has a parent not received yet (the agent
  // span of a turn longer than `quiet`) must receive no span before that span is written on
  // its own (OMNIFLOW_OTLP_PARENT_WAIT_MS); also how long the ids of spans without gen_ai.*
  // attributes wait for a GenAI span of their trace. At least `quiet`: when only `quiet` is
  // set above the default, the same.
  std::chrono::milliseconds parent_wait{std::chrono::minutes(2)};
  // A trace with no chat / invoke_agent span is dropped this long after its first span, and
  // every trace is written by then whatever it waits for (OMNIFLOW_OTLP_EXPIRE_MS).
  std::chrono::milliseconds expire{std::chrono::hours(1)};
  // How often the store is looked at; 0: a quarter of `quiet`, between 20 ms and 1 s.
  std::chrono::milliseconds poll{0};
  int traces_per_round = 100;  // due traces taken per look
  // Reads `quiet`, `parent_wait` and `expire` from the environment; an unusable value (or a
  // `parent_wait` below `quiet`) is an InvalidArgument naming the variable.
  static Result<AssemblerOptions> FromEnvironment();
};

// The interaction id of the interaction made for `user` from span `span_id` of `trace_id`
// starting at `start_us`: INT_YYYYMMDD_HHMMSS_ffffff_<16 upper-case hex digits of the SHA-256
// of user, trace and span>. The same span always makes the same id; another user's span
// (whatever ids it claims) another one.
std::string OtlpInteractionId(int64_t start_us, std::string_view user, std::string_view trace_id,
                              std::string_view span_id);

class TraceAssembler {
 public:
  // `spans`, `writer` and `clock` outlive the assembler; `build` as for every save.
  TraceAssembler(PendingSpanStore* spans, Writer* writer, Clock* clock, BuildOptions build,
                 AssemblerOptions options);
  ~TraceAssembler();  // Stop()

  void Start();
  // Finishes the round in progress; what is left stays in the store for the next start.
  void Stop();

  // Held while a trace's spans are read, written as interactions and removed; whoever holds
  // it (erasure) sees no trace half assembled.
  Mutex* assembly_mutex() { return &assembly_mu_; }

  // One round, on the caller's thread: writes the interactions of the traces due now and
  // removes their spans. Returns how many interactions were newly stored.
  Result<int> RunOnce();

 private:
  // Writes one interaction and waits until it is durable (or known as already stored).
  // True when it was newly stored.
  Result<bool> Write(InteractionRecord record);

  PendingSpanStore* const spans_;
  Writer* const writer_;
  Clock* const clock_;
  const BuildOptions build_;
  const AssemblerOptions options_;
  Mutex assembly_mu_;
  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace omniflow::otlp
