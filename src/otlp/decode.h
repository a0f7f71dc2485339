// Reading an OTLP/HTTP trace export (POST /v1/traces): the request body in either OTLP encoding
// (binary protobuf, or the OTLP JSON mapping), gunzipped first when it came gzip-encoded, turned
// into one engine-neutral DecodedSpan per span; and the ExportTraceServiceResponse and error
// bodies in the request's encoding. Pure functions of their input, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace omniflow::otlp {

enum class Encoding { kProtobuf, kJson };

// One span as omniflow keeps it until its trace is assembled (otlp/genai_mapping.h).
struct DecodedSpan {
  std::string trace_id;        // 32 lower-case hex digits, not all zero
  std::string span_id;         // 16 lower-case hex digits, not all zero
  std::string parent_span_id;  // 16 lower-case hex digits, or empty: no parent
  bool parent_remote = false;  // Span.flags says the parent is remote (another process's)
  std::string user;            // the span's user.id / enduser.id, else its resource's; may be
                               // empty; not validated here
  bool genai = false;          // carries a gen_ai.* attribute (or event): worth keeping
  // The span as compact JSON: {"trace_id","span_id","parent_span_id","parent_remote","name",
  // "start_us","end_us","status_code" (0 unset, 1 ok, 2 error),"status_message",
  // "attributes":{key: value},
  // "events":[{"name","time_us","attributes":{...}}]}. Attribute values as JSON: strings,
  // booleans, integers, doubles, arrays, key-value lists as objects, bytes as lower-case hex.
  std::string json;
};

struct DecodedExport {
  std::vector<DecodedSpan> spans;  // the valid spans, in the order sent
  int64_t rejected = 0;            // spans left out as invalid (bad ids, too deep values)
  std::string reject_reason;       // why the first of them was left out
};

// What is kept of a span without gen_ai.* attributes: its ids alone, so that the ancestry of a
// chat span can be walked through it (an HTTP server span between the agent and the chat).
// The JSON form of `json` with only "trace_id","span_id","parent_span_id","parent_remote" and
// empty "attributes" and "events": no name, no times, no content.
std::string LinkJson(const DecodedSpan& span);

// Decodes an export request. InvalidArgument when the body is not an export request at all (not
// protobuf of that message, not a JSON object of the mapping); invalid single spans are counted
// in `rejected` instead.
Result<DecodedExport> DecodeExport(std::string_view body, Encoding encoding);

// The gunzipped `body`. InvalidArgument when it is not gzip; TooLarge (413) as soon as
// the output would exceed `max_bytes` (a gzip bomb never gets inflated further).
Result<std::string> Gunzip(std::string_view body, size_t max_bytes);

// ExportTraceServiceResponse; with partial_success when `rejected` > 0 or `message` is set.
std::string ExportResponse(Encoding encoding, int64_t rejected, std::string_view message);

// An OTLP/HTTP error body (google.rpc.Status {code, message}); the JSON form also carries the
// project's {"status":"error","error":...}.
std::string ErrorBody(Encoding encoding, int grpc_code, std::string_view message);

}  // namespace omniflow::otlp
