// Fixtures the store tests share (the contract suite and each engine's own tests): a bare
// interaction record, one as a save builds it, saves and audit entries from several threads, one
// history page read through the InteractionStore interface, and the hash chain walked through a
// verifier.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/validate.h"
#include "store/audit_store.h"
#include "store/chain_store.h"
#include "store/interaction_store.h"
#include "store/writer.h"
#include "trust/chain.h"

namespace omniflow {

// A bare record whose body is {"interaction_id":"..."}.
inline InteractionRecord TestRecord(const std::string& user, int64_t ts,
                                    const std::string& suffix = "",
                                    std::optional<std::string> thread = std::nullopt) {
  InteractionRecord r;
  r.user_id = user;
  r.ts_us = ts;
  r.interaction_id = FormatInteractionId(ts) + suffix;
  r.thread_id = std::move(thread);
  r.json = "{\"interaction_id\":\"" + r.interaction_id + "\"}";
  return r;
}

// The record a save of `text` by `user` at `ts` builds, as the server stores it (its columns
// match its body, which the chain's walk checks).
inline InteractionRecord TestSavedRecord(const std::string& user, int64_t ts,
                                         const std::string& text,
                                         const std::string& thread = "") {
  Result<SaveRequest> request = ParseSaveRequest(
      R"({"user_message":")" + text + R"(","assistant_response":"re )" + text + "\"" +
      (thread.empty() ? "" : R"(,"thread_id":")" + thread + "\"") + "}");
  EXPECT_TRUE(request.ok()) << request.status().message();
  if (!request.ok()) return InteractionRecord();
  return BuildInteraction(Stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)}, user,
                          std::move(*request), {});
}

// The chain as `omniflow verify` sees it from `from_seq`: every record, the snapshot, and the
// first break if any.
struct WalkedChain {
  std::vector<trust::ChainRecord> records;
  ChainSnapshot snapshot;
  std::optional<trust::ChainBreak> broken;
  std::string why() const { return broken ? broken->record + ": " + broken->why : ""; }
};
inline WalkedChain WalkChain(ChainStore& chain, int64_t from_seq = 1) {
  WalkedChain w;
  std::unique_ptr<trust::ChainVerifier> verifier;
  Status s = chain.Walk(
      from_seq,
      [&](const ChainSnapshot& snapshot) {
        w.snapshot = snapshot;
        verifier = std::make_unique<trust::ChainVerifier>(from_seq, snapshot.before,
                                                          snapshot.contiguous_from);
      },
      [&](const trust::ChainRecord& record) {
        w.records.push_back(record);
        return verifier->Feed(record);
      });
  EXPECT_TRUE(s.ok()) << s.message();
  if (verifier) {
    verifier->Finish(w.snapshot.head);
    w.broken = verifier->broken();
  }
  return w;
}

// Saves `per_client` records from each of `clients` threads through `writer`, each waiting for
// its answer before the next as a client does (user "u<client % 3>", times from `t0`); returns
// the records acknowledged. A refused submit (queue full) is retried.
inline std::vector<InteractionRecord> SaveConcurrently(Writer& writer, int clients,
                                                       int per_client, int64_t t0) {
  std::mutex mu;
  std::vector<InteractionRecord> acked;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < per_client; ++i) {
        const int64_t ts = t0 + int64_t{c} * 1'000'000 + i;
        InteractionRecord r = TestSavedRecord("u" + std::to_string(c % 3), ts,
                                              "save " + std::to_string(c) + "." + std::to_string(i),
                                              "t" + std::to_string(i % 4));
        InteractionRecord copy = r;
        std::promise<SaveOutcome> answered;
        std::future<SaveOutcome> answer = answered.get_future();
        while (!writer.Submit(r, [&](const SaveOutcome& o) { answered.set_value(o); }).ok()) {
          std::this_thread::yield();
        }
        if (answer.get().status.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acked.push_back(std::move(copy));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return acked;
}

// Appends `n` audit entries (an admin's exports, stamped t0, t0 + 1, ...) a few milliseconds
// apart, entry i to `audit(i)`: chained records between concurrent saves.
inline void AppendAuditEntries(int n, int64_t t0, const std::function<AuditStore&(int)>& audit) {
  for (int i = 0; i < n; ++i) {
    AuditEntry e;
    e.ts_us = t0 + i;
    e.actor = "admin";
    e.action = "export";
    e.path = "/api/export";
    e.status = 200;
    e.request_id = "req-" + std::to_string(i);
    EXPECT_TRUE(audit(i).Append({&e, 1}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(4));
  }
}

// One page of `user`'s history; an empty page (and a test failure) when the store fails.
inline HistoryPage TestPage(InteractionStore* store, const std::string& user, int limit = 50,
                            int64_t offset = 0, std::optional<std::string> thread = std::nullopt,
                            std::optional<HistoryCursor> after = std::nullopt) {
  HistoryQuery q;
  q.user_id = user;
  q.limit = limit;
  q.offset = offset;
  q.thread_id = std::move(thread);
  q.after = std::move(after);
  Result<HistoryPage> page = store->History(q);
  EXPECT_TRUE(page.ok()) << page.status().message();
  return page.ok() ? *page : HistoryPage();
}

}  // namespace omniflow
