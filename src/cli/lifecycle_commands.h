// The data lifecycle on the command line: where the receipt key lives (for `serve` and
// `verify-receipt`), `omniflow purge` and `omniflow verify-receipt`.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "lifecycle/receipt.h"
#include "store/store_options.h"

namespace omniflow {

// The receipt key file: `key_file` (OMNIFLOW_RECEIPT_KEY_FILE) when given, else
// <data_dir>/receipt-key.pem.
std::string ReceiptKeyPath(const std::string& key_file, const std::string& data_dir);

// The server's receipt key: read from `key_file` when given (it must exist: a key the operator
// provides is never made up here), else read from, or made once in, the data dir (mode 0600).
Result<std::unique_ptr<lifecycle::ReceiptKey>> OpenReceiptKey(const std::string& key_file,
                                                              const std::string& data_dir);

// `omniflow purge`: one purge run with the default policy `default_days` (0 = forever), the
// stored overrides and holds, then of the audit entries older than `audit_days` (0 = forever);
// prints the counts. `dry_run` counts only. Exit status.
int RunPurge(const StoreOptions& store_options, int default_days, int audit_days, bool dry_run);

// `omniflow verify-receipt FILE`: checks the receipt in FILE (the receipt, or the erase answer
// holding it) against the PEM public key in `public_key_file`, or else the server's own key
// (`key_file` / the data dir). Exit 0 when valid, 1 with the reason otherwise.
int RunVerifyReceipt(const std::string& file, const std::string& public_key_file,
                     const std::string& key_file, const std::string& data_dir);

}  // namespace omniflow
