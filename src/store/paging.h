// Paging as every engine does it. A keyset page (one that continues after a position) asks
// the engine for one row more than it returns: that extra row is never shown, its presence
// says that more follow. An offset page learns it from the total instead.
#pragma once

#include <cstddef>
#include <cstdint>

namespace omniflow {

// The LIMIT to ask the engine for, for a keyset page of `limit` items.
constexpr int64_t FetchLimit(int limit) { return int64_t{limit} + 1; }

// For rows read one at a time: true when a page already holding `on_page` items is full, so
// the row in hand is the extra one; then *has_more is set and the caller stops reading.
inline bool PageIsFull(size_t on_page, int limit, bool* has_more) {
  if (on_page < static_cast<size_t>(limit)) return false;
  *has_more = true;
  return true;
}

// For rows read all at once: how many of `fetched` rows go on a page of `limit` items;
// *has_more is set when the extra row came.
inline int RowsOnPage(int fetched, int limit, bool* has_more) {
  if (fetched <= limit) return fetched;
  *has_more = true;
  return limit;
}

// Whether rows remain after an offset page of `on_page` items that starts at `offset` of
// `total`.
constexpr bool MoreAfterOffset(int64_t offset, size_t on_page, int64_t total) {
  return offset + static_cast<int64_t>(on_page) < total;
}

// Sets a keyset page's `next` to its last item's `position` when more follow, so that the
// next page starts after it. REQUIRES: Page has `items` (each with a `position`), `has_more`
// and an optional `next`.
template <typename Page>
void SetNextFromLastItem(Page* page) {
  if (page->has_more && !page->items.empty()) page->next = page->items.back().position;
}

}  // namespace omniflow
