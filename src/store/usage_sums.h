// Reading the token usage sums a query selects as seven columns, in this order: interactions,
// input, cached_input, output, reasoning, cost_nanos, unpriced. Both engines' stats and the
// replay summaries select them so. `Row` is any reader with Int(col): a sqlite::Stmt, or a
// pg::Row.
#pragma once

#include "store/analytics_store.h"

namespace omniflow {

template <class Row>
UsageTotals ReadUsageSums(const Row& row, int from) {
  UsageTotals t;
  t.interactions = row.Int(from);
  t.input = row.Int(from + 1);
  t.cached_input = row.Int(from + 2);
  t.output = row.Int(from + 3);
  t.reasoning = row.Int(from + 4);
  t.cost_nanos = row.Int(from + 5);
  t.unpriced = row.Int(from + 6);
  return t;
}

}  // namespace omniflow
