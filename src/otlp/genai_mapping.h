// From the spans of one trace (as otlp/decode.h keeps them) to omniflow interactions, by the
// OpenTelemetry GenAI semantic conventions: each outermost chat / invoke_agent span (one with no
// such span among its ancestors, through spans without gen_ai.* attributes too) becomes one
// interaction, with its user message and answer, its tool calls (execute_tool spans, else the
// assistant's tool calls in the messages), thread, model, usage and agent. Pure functions, thread-safe. See docs/integrations.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace omniflow::otlp {

// One interaction made from a trace: the body of a save_interaction request (to be validated
// by ParseSaveRequest like any other) and where it came from.
struct MappedInteraction {
  std::string trace_id;
  std::string span_id;   // the root (chat / invoke_agent) span's
  int64_t start_us = 0;  // the root span's start: the interaction's timestamp
  std::string save_body; // {"user_message","assistant_response","thread_id"?,"tool_calls",
                         //  "metadata"} as JSON
};

// True when the span (DecodedSpan::json) is a chat / invoke_agent span: a possible root.
bool IsInteractionSpan(std::string_view span_json);

// True when the ancestry of every outermost chat / invoke_agent span of the trace's spans has
// arrived: its parent links, through the given spans (GenAI ones or otlp::LinkJson ones), end
// at a span with no parent or whose parent is remote. False while a parent is missing: the
// chat span may yet turn out to be part of an agent turn whose span ends (and is exported)
// later. True for a trace without such a span.
bool AncestryComplete(std::span<const std::string> span_jsons);

// The interactions of one trace's spans (any order; duplicates of a span id count once).
// Spans that do not parse are skipped. Empty when the trace has no chat / invoke_agent span.
std::vector<MappedInteraction> MapTrace(std::span<const std::string> span_jsons);

}  // namespace omniflow::otlp
