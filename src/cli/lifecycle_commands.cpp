#include "cli/lifecycle_commands.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "lifecycle/retention.h"
#include "store/database.h"

namespace omniflow {

namespace {

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return true;
}

}  // namespace

std::string ReceiptKeyPath(const std::string& key_file, const std::string& data_dir) {
  return key_file.empty() ? data_dir + "/receipt-key.pem" : key_file;
}

Result<std::unique_ptr<lifecycle::ReceiptKey>> OpenReceiptKey(const std::string& key_file,
                                                              const std::string& data_dir) {
  if (!key_file.empty()) return lifecycle::ReceiptKey::Load(key_file);
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  return lifecycle::ReceiptKey::LoadOrCreate(ReceiptKeyPath(key_file, data_dir));
}

int RunPurge(const StoreOptions& store_options, int default_days, int audit_days, bool dry_run) {
  Result<std::unique_ptr<Database>> db = Database::Open(store_options);
  if (!db.ok()) {
    std::cerr << "omniflow: cannot open the store: " << db.status().message() << "\n";
    return 1;
  }
  lifecycle::RetentionOptions options;
  options.default_days = default_days;
  options.audit_days = audit_days;
  lifecycle::RetentionRunner runner(&(*db)->lifecycle(), Clock::Real(), options, &(*db)->audit());
  Result<PurgeReport> report = runner.RunOnce(dry_run);
  if (!report.ok()) {
    std::cerr << "omniflow: purge stopped: " << report.status().message() << "\n";
    return 1;
  }
  std::cout << (dry_run ? "dry run: would purge " : "purged ") << report->interactions
            << " interactions of " << report->users << " users; " << report->held_users_skipped
            << " held users skipped (default retention: "
            << (default_days == 0 ? std::string("forever") : std::to_string(default_days) + " days")
            << ")\n"
            << (dry_run ? "dry run: would purge " : "purged ") << report->audit_entries
            << " audit entries (audit retention: "
            << (audit_days == 0 ? std::string("forever") : std::to_string(audit_days) + " days")
            << ")\n";
  return 0;
}

int RunVerifyReceipt(const std::string& file, const std::string& public_key_file,
                     const std::string& key_file, const std::string& data_dir) {
  std::string receipt;
  if (!ReadFile(file, &receipt)) {
    std::cerr << "omniflow: cannot read " << file << "\n";
    return 1;
  }
  std::string pem;
  if (!public_key_file.empty()) {
    if (!ReadFile(public_key_file, &pem)) {
      std::cerr << "omniflow: cannot read the public key " << public_key_file << "\n";
      return 1;
    }
  } else {
    Result<std::unique_ptr<lifecycle::ReceiptKey>> key =
        lifecycle::ReceiptKey::Load(ReceiptKeyPath(key_file, data_dir));
    if (!key.ok()) {
      std::cerr << "omniflow: " << key.status().message()
                << " (give the server's public key with --public-key)\n";
      return 1;
    }
    pem = (*key)->public_key_pem();
  }
  if (Status s = lifecycle::VerifyReceipt(receipt, pem); !s.ok()) {
    std::cerr << "omniflow: receipt NOT valid: " << s.message() << "\n";
    return 1;
  }
  std::cout << "receipt valid: signed by key " << *lifecycle::KeyIdOfPublicKey(pem) << "\n";
  return 0;
}

}  // namespace omniflow
