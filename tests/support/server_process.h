// Starts the real omniflow binary as a child process on an ephemeral port with a temporary data
// dir, for end-to-end tests; stops it with SIGTERM (or SIGKILL) and reports how it exited.
// Backend: with OMNIFLOW_TEST_STORE unset the servers use SQLite in their data dir. With it set
// to a PostgreSQL superuser URL (or "file:PATH" of a file holding one, as the ctest fixture
// does), every server and every command given a --data-dir gets `--store` of a database of its
// own, one per data dir: servers sharing a data dir share a database, as they would share the
// SQLite file. So every end-to-end test runs unchanged against both backends.
// The binary never sees the runner's FUNCTION_CODE_* or OMNIFLOW_* variables, only `env`'s.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace omniflow::testing {

// A temporary directory removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ServerConfig {
  std::vector<std::string> args;                            // extra `serve` arguments
  std::vector<std::pair<std::string, std::string>> env;     // extra environment (the runner's
                                                            // FUNCTION_CODE_*, OMNIFLOW_* are dropped)
  std::string data_dir;                                     // empty: a fresh temp dir
  std::string host = "127.0.0.1";
};

// True when the tests run against PostgreSQL (OMNIFLOW_TEST_STORE is set).
bool TestingPostgres();
// The superuser URL of the test PostgreSQL; empty when testing SQLite.
std::string TestAdminUrl();
// The store URL of `data_dir`'s database (created on first use, owned by the non-superuser
// role omniflow_app); empty when testing SQLite.
std::string TestStoreUrl(const std::string& data_dir);
// Drops `data_dir`'s database, if any (no-op with SQLite).
void DropTestStore(const std::string& data_dir);

class ServerProcess {
 public:
  explicit ServerProcess(ServerConfig config = {});
  ~ServerProcess();  // SIGKILLs a server still running

  // Starts the server and waits until it listens; false (with the log in `error`) if it exited.
  bool Start(std::string* error = nullptr);
  // SIGTERM, then waits; returns the exit status (or 128+signal), -1 on timeout.
  int Stop(int timeout_ms = 15000);
  // SIGKILL and reap.
  void Kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // Everything the server wrote to stderr so far.
  std::string Log() const;

  // Runs the omniflow binary with `args` to completion; returns exit status, output in `output`.
  static int RunCommand(const std::vector<std::string>& args,
                        const std::vector<std::pair<std::string, std::string>>& env,
                        std::string* output);

 private:
  // On a stop that timed out: prints the server's thread stacks and the tail of its log.
  void ReportHang() const;

  ServerConfig config_;
  TempDir temp_;
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace omniflow::testing
