// End-to-end: the SQLite WAL stays within the checkpointer's limit whatever command writes the
// store, not only under `serve`. Bulk commands (demo-data, import) let the search indexer write
// between their batches; the WAL used to grow by every commit until the command ended
// (issue 12: 15.5 GB for an 812 MB database). SQLite only: PostgreSQL has no WAL file here.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <thread>

#include "support/e2e.h"

namespace omniflow::testing {
namespace {

// A wake size of 64 pages (512 KiB of the default 8 KiB pages) puts the hard limit at 256 pages:
// 2 MiB.
constexpr const char* kWakePages = "64";
constexpr int64_t kHardLimitBytes = 4 * 64 * 8192;
// The WAL may pass the hard limit by the transaction that crosses it (a demo-data batch of 2,000
// rows or an import batch of 5,000 writes 2-5 MB): 12 MiB allows for that twice over, far below
// the 20-50 MB that each command below writes through it.
constexpr int64_t kBoundBytes = 6 * kHardLimitBytes;

// Runs `omniflow args...` with the small checkpoint size and returns the largest size the
// data dir's WAL file had while it ran (sampled every 10 ms), or -1 if the command failed.
int64_t PeakWalWhileRunning(const std::vector<std::string>& args, const std::string& data_dir,
                            std::string* output) {
  const std::string wal = data_dir + "/omniflow.db-wal";
  std::atomic<bool> done{false};
  int64_t peak = 0;
  std::thread sampler([&] {
    while (!done.load()) {
      struct stat st {};
      if (::stat(wal.c_str(), &st) == 0) peak = std::max<int64_t>(peak, st.st_size);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const int code =
      ServerProcess::RunCommand(args, {{"OMNIFLOW_SQLITE_CHECKPOINT_PAGES", kWakePages}}, output);
  done = true;
  sampler.join();
  return code == 0 ? peak : -1;
}

// What a user of the dashboard would check: the count of interactions and, given a `marker`,
// that a search finds the one interaction holding it.
void ExpectAllThere(const std::string& data_dir, int64_t interactions, const std::string& marker) {
  ServerConfig config;
  config.data_dir = data_dir;
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  HttpResponse r = s.client->Get("/api/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element totals;
  ASSERT_EQ(r.Json()["totals"].get(totals), simdjson::SUCCESS) << r.body;
  EXPECT_EQ(IntAt(totals, "interactions"), interactions) << r.body;
  if (marker.empty()) return;
  r = s.client->Get("/api/search?q=" + marker);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Items(r.Json()).size(), 1u) << r.body;
}

TEST(E2eWal, DemoDataKeepsTheWalWithinTheCheckpointLimit) {
  if (TestingPostgres()) GTEST_SKIP() << "SQLite only: PostgreSQL has no WAL file in the data dir";
  TempDir dir;
  std::string output;
  const int64_t peak = PeakWalWhileRunning(
      {"demo-data", "--data-dir", dir.path(), "--count", "20000", "--users", "500"}, dir.path(),
      &output);
  ASSERT_GE(peak, 0) << output;
  RecordProperty("peak_wal_bytes", std::to_string(peak));
  EXPECT_LT(peak, kBoundBytes) << "largest WAL file during demo-data, hard limit "
                               << kHardLimitBytes << " bytes";
  // Its stderr is not a terminal here: progress comes in whole lines, without carriage returns.
  EXPECT_EQ(output.find('\r'), std::string::npos) << output;
  EXPECT_NE(output.find("demo-data: 10000 / 20000 interactions\n"), std::string::npos) << output;
  EXPECT_NE(output.find("demo-data: 20000 / 20000 interactions\n"), std::string::npos) << output;
  ExpectAllThere(dir.path(), 20000, "");
}

TEST(E2eWal, ImportKeepsTheWalWithinTheCheckpointLimit) {
  if (TestingPostgres()) GTEST_SKIP() << "SQLite only: PostgreSQL has no WAL file in the data dir";
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string file = dir.path() + "/interactions.jsonl";
  constexpr int kRows = 20000;
  {
    std::ofstream out(file);
    const std::string filler(400, 'x');
    for (int i = 0; i < kRows; ++i) {
      // Distinct microseconds of 2025-12-11, 40 users, 400 threads.
      const int64_t us = int64_t{i} * 3'000'000;
      char ts[40];
      std::snprintf(ts, sizeof ts, "2025-12-11T%02lld:%02lld:%02lld.%06dZ",
                    static_cast<long long>(us / 3'600'000'000 % 24),
                    static_cast<long long>(us / 60'000'000 % 60),
                    static_cast<long long>(us / 1'000'000 % 60), i % 1000000);
      out << "{\"user_id\":\"u" << i % 40 << "\",\"timestamp\":\"" << ts
          << "\",\"thread_id\":\"t" << i % 400 << "\",\"user_message\":\"question " << i
          << " walmark" << i << "z about the budget\",\"assistant_response\":\"answer " << filler
          << "\"}\n";
    }
  }
  std::string output;
  const int64_t peak = PeakWalWhileRunning(
      {"import", file, "--data-dir", data}, data, &output);
  ASSERT_GE(peak, 0) << output;
  RecordProperty("peak_wal_bytes", std::to_string(peak));
  EXPECT_LT(peak, kBoundBytes) << "largest WAL file during import, hard limit "
                               << kHardLimitBytes << " bytes";
  ExpectAllThere(data, kRows, "walmark" + std::to_string(kRows - 1) + "z");
}

}  // namespace
}  // namespace omniflow::testing
