// Fixtures the store tests share (the contract suite and each engine's own tests): a bare
// interaction record and one history page read through the InteractionStore interface.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/ids.h"
#include "store/interaction_store.h"

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
