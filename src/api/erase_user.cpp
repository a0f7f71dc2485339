// DELETE /api/users/{user_id}: erasure with a signed receipt. On a worker thread: the hold check,
// the store's EraseUser (one transaction, OTLP spans held for the user included) with the
// spool's replays and the OTLP trace assembler held off, then the user's
// spooled records, then the receipt. The answer comes only after all of it returned.
#include <spdlog/spdlog.h>

#include "api/lifecycle_handlers.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

namespace {

Status HeldStatus(const LegalHold& hold) {
  return Status::FailedPrecondition(
      "user " + hold.user_id + " is under a legal hold since " + FormatTimestamp(hold.since_us) +
      " (reason: " + hold.reason + "); nothing was erased. Release it with DELETE /api/users/" +
      hold.user_id + "/hold first");
}

// Erases `user` everywhere; the signed receipt, or why not. Sets `*interactions` to the
// interactions erased from the store.
Result<std::string> Erase(const LifecycleContext& lifecycle, const std::string& user,
                          int64_t* interactions) {
  Result<std::optional<LegalHold>> hold = lifecycle.store->GetHold(user);
  if (!hold.ok()) return hold.status();
  if (hold->has_value()) return HeldStatus(**hold);
  Result<ErasureReport> report = ErasureReport();
  auto erase_store = [&]() -> Status {
    std::optional<MutexLock> no_assembly;
    if (lifecycle.otlp_assembly != nullptr) no_assembly.emplace(lifecycle.otlp_assembly);
    report = lifecycle.store->EraseUser(user);
    if (report.ok()) return Status::Ok();
    // A hold set since the check above: the store refused and erased nothing.
    if (report.status().code() == Status::Code::kFailedPrecondition) {
      return Status::FailedPrecondition(report.status().message() + "; nothing was erased");
    }
    return report.status();
  };
  lifecycle::ErasureFacts facts;
  if (lifecycle.spool != nullptr) {
    Result<size_t> spooled = lifecycle.spool->EraseUser(user, erase_store);
    if (!spooled.ok()) return spooled.status();
    facts.spooled = static_cast<int64_t>(*spooled);
  } else if (Status s = erase_store(); !s.ok()) {
    return s;
  }
  facts.receipt_id = lifecycle::NewReceiptId();
  facts.user_id = user;
  facts.erased_at_us = (lifecycle.clock ? lifecycle.clock : Clock::Real())->NowMicros();
  facts.store = std::move(*report);
  *interactions = facts.store.interactions;
  Result<std::string> receipt = lifecycle::SignedReceiptJson(facts, *lifecycle.receipt_key);
  if (!receipt.ok()) return receipt.status();
  spdlog::info("event=user_erased receipt_id={} interactions={} spooled={}", facts.receipt_id,
               facts.store.interactions, facts.spooled);
  return receipt;
}

}  // namespace

void EraseUser(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  const LifecycleContext& lifecycle = context.lifecycle;
  if (lifecycle.store == nullptr || lifecycle.receipt_key == nullptr ||
      context.assistant.workers == nullptr) {
    return respond(ErrorFrom(
        Status::Unavailable("retention, legal holds and erasure are not enabled here"), who));
  }
  Status posted = context.assistant.workers->Post(
      [&lifecycle, user = call.params[0], respond, who] {
        int64_t erased = 0;
        Result<std::string> receipt = Erase(lifecycle, user, &erased);
        if (!receipt.ok()) {
          // A legal hold is the caller's to see (409 naming it); a store failure is not.
          return respond(receipt.status().code() == Status::Code::kFailedPrecondition
                             ? ErrorFrom(receipt.status(), who)
                             : StoreError(receipt.status(), who));
        }
        JsonWriter w;
        w.BeginObject().Field("status", "success").RawField("receipt", *receipt).EndObject();
        http::Response r = JsonResponse(200, w.Release(), who);
        r.rows = erased;
        respond(std::move(r));
      });
  if (!posted.ok()) respond(ErrorFrom(posted, who));
}

}  // namespace omniflow::api
