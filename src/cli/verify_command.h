// `omniflow verify`: walks the store's hash chain (trust/chain.h) and reports the first record
// that breaks it, or how many records verified; optionally checks an anchor read earlier from
// GET /api/chain/head.
#pragma once

#include <cstdint>
#include <string>

#include "store/store_options.h"

namespace omniflow {

// Exit status: 0 when every record from `from_seq` on verifies (and `expect_head`, when not
// empty, is the hash of one of them); 1 naming the first broken record, or the anchor not
// found; 2 for a malformed anchor.
int RunVerify(const StoreOptions& store_options, int64_t from_seq, const std::string& expect_head);

}  // namespace omniflow
