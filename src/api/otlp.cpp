// POST /v1/traces: OTLP/HTTP trace ingest. Decodes the export (protobuf or JSON, gzip or not;
// otlp/decode.h), decides each span's user (its user.id / enduser.id, else its resource's, else
// the caller's), refuses spans the caller may not write, holds the spans in the store for the
// trace assembler (otlp/trace_assembler.h) and answers an ExportTraceServiceResponse in the
// request's encoding. Of spans without gen_ai.* attributes only the ids are kept
// (otlp::LinkJson), to join a chat span to an agent span above them.
#include <memory>

#include "api/handlers.h"
#include "api/respond.h"
#include "core/validate.h"
#include "metrics/captured.h"
#include "otlp/decode.h"
#include "otlp/genai_mapping.h"

namespace omniflow::api {

namespace {

// gRPC status codes of OTLP/HTTP error bodies.
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnavailable = 14;

std::string_view MediaType(otlp::Encoding encoding) {
  return encoding == otlp::Encoding::kProtobuf ? "application/x-protobuf" : "application/json";
}

// An error answer in the request's encoding (OTLP/HTTP: a google.rpc.Status body), with the
// status the project's error helper maps `status` to.
http::Response OtlpError(otlp::Encoding encoding, const Status& status, const std::string& who) {
  http::Response r = ErrorFrom(status, who);
  const int code = r.status == 413 ? kGrpcResourceExhausted
                   : r.status >= 500 ? kGrpcUnavailable : kGrpcInvalidArgument;
  r.body = otlp::ErrorBody(encoding, code, status.code() == Status::Code::kInternal
                                               ? std::string_view("internal error")
                                               : std::string_view(status.message()));
  r.content_type = std::string(MediaType(encoding));
  return r;
}

// The decoded body: gunzipped first when Content-Encoding says gzip.
Result<otlp::DecodedExport> DecodeBody(const ApiContext& context, const http::Request& request,
                                       otlp::Encoding encoding) {
  std::optional<std::string_view> coding = request.Header("content-encoding");
  if (!coding || coding->empty() || http::EqualsIgnoreCase(*coding, "identity")) {
    return otlp::DecodeExport(request.body, encoding);
  }
  if (!http::EqualsIgnoreCase(*coding, "gzip")) {
    return Status::UnsupportedFormat("Content-Encoding must be gzip or identity");
  }
  Result<std::string> inflated = otlp::Gunzip(request.body, context.otlp.max_inflated_bytes);
  if (!inflated.ok()) return inflated.status();
  return otlp::DecodeExport(*inflated, encoding);
}

}  // namespace

void OtlpTraces(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& caller = call.caller.user_id;
  std::string_view type = call.request.Header("content-type").value_or("");
  const otlp::Encoding encoding = http::EqualsIgnoreCase(type.substr(0, type.find(';')),
                                                         "application/json")
                                      ? otlp::Encoding::kJson
                                      : otlp::Encoding::kProtobuf;
  if (context.otlp.spans == nullptr || context.assistant.workers == nullptr) {
    return respond(OtlpError(encoding, Status::Unavailable("OTLP ingest is not enabled here"), caller));
  }
  Result<otlp::DecodedExport> decoded = DecodeBody(context, call.request, encoding);
  if (!decoded.ok()) return respond(OtlpError(encoding, decoded.status(), caller));

  // Each span's user: the one it names, else the caller's. A caller bound to a user (a token,
  // or a key with X-User-Id) writes only that user; a key without X-User-Id any user a span
  // names.
  int64_t rejected = decoded->rejected;
  std::string reason = decoded->reject_reason;
  auto reject = [&](std::string why) {
    if (rejected++ == 0) reason = std::move(why);
  };
  const int64_t now = context.otlp.clock != nullptr ? context.otlp.clock->NowMicros()
                                                    : Clock::Real()->NowMicros();
  std::vector<PendingSpan> held;
  int64_t accepted = 0;
  for (otlp::DecodedSpan& span : decoded->spans) {
    std::string user = span.user.empty() ? caller : span.user;
    if (user.empty()) {
      reject("a span names no user: set the user.id (or enduser.id) attribute on the span or its "
             "resource, or send X-User-Id");
      continue;
    }
    if (!caller.empty() && user != caller) {
      reject("a span names another user than the caller's (the token's, or X-User-Id): such "
             "spans are refused");
      continue;
    }
    if (!IsValidUserId(user)) {
      reject(std::string("a span's user.id is not a valid user id: ") + kUserIdRule);
      continue;
    }
    ++accepted;
    PendingSpan p;
    p.user_id = std::move(user);
    p.genai = span.genai;
    // A span without gen_ai.* attributes: its ids only, never its name or content.
    p.json = span.genai ? std::move(span.json) : otlp::LinkJson(span);
    p.root = span.genai && otlp::IsInteractionSpan(p.json);
    p.trace_id = std::move(span.trace_id);
    p.span_id = std::move(span.span_id);
    p.received_us = now;
    held.push_back(std::move(p));
  }
  metrics::CountOtlpSpans(static_cast<uint64_t>(accepted), static_cast<uint64_t>(rejected));
  std::string answer = otlp::ExportResponse(encoding, rejected, reason);
  if (held.empty()) {
    http::Response r = JsonResponse(200, std::move(answer), caller);
    r.content_type = std::string(MediaType(encoding));
    return respond(std::move(r));
  }
  // The store may sync to disk or talk to a database: on a worker thread.
  auto spans = std::make_shared<std::vector<PendingSpan>>(std::move(held));
  PendingSpanStore* store = context.otlp.spans;
  Status posted = context.assistant.workers->Post(
      [store, spans, encoding, respond, caller, answer = std::move(answer)]() mutable {
        Status added = store->Add(*spans);
        if (!added.ok()) {
          http::Response r = OtlpError(encoding, Status::Unavailable(
              "the spans were not stored; retry later"), caller);
          r.log_error = added.message();
          return respond(std::move(r));
        }
        http::Response r = JsonResponse(200, std::move(answer), caller);
        r.content_type = std::string(MediaType(encoding));
        respond(std::move(r));
      });
  if (!posted.ok()) respond(OtlpError(encoding, posted, caller));
}

}  // namespace omniflow::api
