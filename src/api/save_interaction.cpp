#include "api/handlers.h"
#include "api/respond.h"
#include "core/digest.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/validate.h"
#include "metrics/captured.h"

namespace omniflow::api {

namespace {

// The Idempotency-Key header: absent (nullopt), or 1-255 printable ASCII characters, sent once.
Result<std::optional<std::string_view>> IdempotencyKeyOf(const http::Request& request) {
  std::optional<std::string_view> key;
  for (const auto& [name, value] : request.headers) {
    if (!http::EqualsIgnoreCase(name, "idempotency-key")) continue;
    if (key) return Status::InvalidArgument("send one Idempotency-Key header, not several");
    key = value;
  }
  if (!key) return key;
  bool printable = !key->empty() && key->size() <= 255;
  for (char c : *key) printable = printable && c >= 0x20 && c <= 0x7e;
  if (!printable) {
    return Status::InvalidArgument("Idempotency-Key must be 1-255 printable ASCII characters");
  }
  return key;
}

std::string SavedBody(std::string_view interaction_id, std::string_view timestamp) {
  JsonWriter w;
  w.Reserve(96);
  w.BeginObject()
      .Field("status", "success")
      .Field("interaction_id", interaction_id)
      .Field("timestamp", timestamp)
      .EndObject();
  return w.Release();
}

// The answer to a save whose key an earlier save holds: that save's answer again, or 422 when
// the key came with another body.
http::Response Replay(const PriorSave& prior, std::string_view request_hash, std::string user) {
  if (prior.request_hash != request_hash) {
    http::Response r = http::ErrorResponse(
        422, "this Idempotency-Key was used with a different request body; use a new key");
    r.log_user = std::move(user);
    return r;
  }
  http::Response r = JsonResponse(
      201, SavedBody(prior.interaction_id, FormatTimestamp(prior.ts_us)), std::move(user));
  r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

}  // namespace

void SaveInteraction(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.writer == nullptr || context.ids == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("saving is not enabled here"), who));
  }
  Result<std::optional<std::string_view>> key = IdempotencyKeyOf(call.request);
  if (!key.ok()) return respond(ErrorFrom(key.status(), who));
  Result<SaveRequest> parsed = ParseSaveRequest(call.request.body);
  if (!parsed.ok()) return respond(ErrorFrom(parsed.status(), who));

  Stamp stamp = context.ids->Next();
  std::string body = SavedBody(stamp.interaction_id, stamp.timestamp);
  InteractionRecord record = BuildInteraction(stamp, who, std::move(*parsed), context.build);
  std::string request_hash;
  if (*key) {
    request_hash = Sha256Hex(call.request.body);  // a retry must send the same bytes
    record.idempotency = IdempotencyKey{std::string(**key), request_hash};
  }

  Status queued = context.writer->Submit(
      std::move(record), [respond, body = std::move(body), user = who,
                          request_hash = std::move(request_hash)](const SaveOutcome& saved) mutable {
        if (saved.status.ok() && saved.prior) {
          return respond(Replay(*saved.prior, request_hash, std::move(user)));
        }
        if (saved.status.ok()) {
          metrics::CountCaptured(metrics::CaptureSource::kSaveInteraction);
          return respond(JsonResponse(201, std::move(body), std::move(user)));
        }
        // The store's reason goes to the log; the client learns whether it was saved, or that
        // this cannot be known yet (the database went away mid-commit): then a retry with the
        // same Idempotency-Key is safe, one without may store it twice.
        http::Response r = ErrorFrom(
            Status::Unavailable(saved.outcome_unknown
                                    ? "the database went away while committing; whether the "
                                      "interaction was saved is unknown; retry with the same "
                                      "Idempotency-Key"
                                    : "the interaction was not saved; retry later"),
            std::move(user));
        if (saved.outcome_unknown) {
          std::string body;
          JsonWriter(&body).BeginObjectFrom(r.body).Field("outcome", "unknown").EndObject();
          r.body = std::move(body);
        }
        r.log_error = saved.status.message();
        respond(std::move(r));
      });
  if (!queued.ok()) respond(ErrorFrom(queued, who));
}

}  // namespace omniflow::api
