#include "cli/verify_command.h"

#include <unistd.h>

#include <iostream>
#include <map>
#include <memory>

#include "store/database.h"
#include "trust/chain.h"

namespace omniflow {

int RunVerify(const StoreOptions& store_options, int64_t from_seq, const std::string& expect_head) {
  std::optional<trust::ChainHash> anchor;
  if (!expect_head.empty()) {
    Result<trust::ChainHash> parsed = trust::ParseChainHash(expect_head);
    if (!parsed.ok()) {
      std::cerr << "omniflow: --expect-head: " << parsed.status().message() << "\n";
      return 2;
    }
    anchor = *parsed;
  }
  if (from_seq < 1) from_seq = 1;
  Result<std::unique_ptr<Database>> db = Database::Open(store_options);
  if (!db.ok()) {
    std::cerr << "omniflow: cannot open the store: " << db.status().message() << "\n";
    return 1;
  }
  ChainStore& chain = (*db)->chain();
  const bool progress = ::isatty(STDERR_FILENO) != 0;
  std::unique_ptr<trust::ChainVerifier> verifier;
  ChainSnapshot snapshot;
  Status walked = chain.Walk(
      from_seq,
      [&](const ChainSnapshot& s) {
        snapshot = s;
        verifier = std::make_unique<trust::ChainVerifier>(from_seq, s.before, s.contiguous_from);
      },
      [&](const trust::ChainRecord& record) {
        if (!verifier->Feed(record)) return false;
        if (progress && verifier->verified() % 100000 == 0) {
          std::cerr << "\rverified " << verifier->verified() << " of about "
                    << (snapshot.head.seq - from_seq + 1) << " records" << std::flush;
        }
        return true;
      });
  if (progress) std::cerr << "\r\033[K" << std::flush;
  if (!walked.ok()) {
    std::cerr << "omniflow: cannot read the chain: " << walked.message() << "\n";
    return 1;
  }
  if (verifier->broken() == std::nullopt) verifier->Finish(snapshot.head);
  if (verifier->broken()) {
    // Was the record moved rather than changed? Compare with every hash the chain holds.
    std::map<int64_t, trust::ChainHash> stored;
    Status again = chain.Walk(
        1, [](const ChainSnapshot&) {},
        [&](const trust::ChainRecord& record) {
          if (record.stored) stored.emplace(record.seq, *record.stored);
          return true;
        });
    if (again.ok()) verifier->ExplainBreak(stored);
    const trust::ChainBreak& at = *verifier->broken();
    std::cout << "chain broken at seq " << at.seq << " (" << at.record << "): " << at.why << "\n"
              << "verified " << verifier->verified() << " records before it\n";
    return 1;
  }
  if (anchor && !verifier->Saw(*anchor)) {
    std::cout << "verified " << verifier->verified() << " records, but the anchor "
              << trust::ChainHashText(*anchor) << " is the hash of none of them"
              << (from_seq > 1 ? " (from seq " + std::to_string(from_seq) + " on)" : "") << "\n";
    return 1;
  }
  std::cout << "verified " << verifier->verified() << " records; head seq " << snapshot.head.seq
            << " " << trust::ChainHashText(snapshot.head.hash) << "\n";
  return 0;
}

}  // namespace omniflow
