#include "support/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "store/postgres/pg_conn.h"

namespace omniflow::testing {

namespace {

constexpr const char* kAppRole = "omniflow_app";

// postgresql://user@host:port/db -> {scheme://, host:port}; the test cluster's URLs are simple.
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme + 3;
  size_t at = url.find('@', start);
  size_t slash = url.find('/', start);
  size_t host = (at != std::string::npos && (slash == std::string::npos || at < slash)) ? at + 1 : start;
  return {url.substr(0, start), url.substr(host, slash == std::string::npos ? std::string::npos : slash - host)};
}

std::string DatabaseFor(const std::string& data_dir) {
  char name[32];
  std::snprintf(name, sizeof name, "t_%016zx", std::hash<std::string>()(
                                                  std::filesystem::absolute(data_dir).lexically_normal().string()));
  return name;
}

bool HasArg(const std::vector<std::string>& args, const std::string& name) {
  for (const auto& a : args) {
    if (a == name || a.rfind(name + "=", 0) == 0) return true;
  }
  return false;
}

bool HasEnv(const std::vector<std::pair<std::string, std::string>>& env, const std::string& name) {
  for (const auto& [k, v] : env) {
    if (k == name) return true;
  }
  return false;
}

}  // namespace

std::string TestAdminUrl() {
  const char* value = std::getenv("OMNIFLOW_TEST_STORE");
  if (!value || !*value) return "";
  std::string url = value;
  if (url.rfind("file:", 0) == 0) {
    std::ifstream in(url.substr(5));
    std::getline(in, url);
  }
  return url;
}

bool TestingPostgres() { return !TestAdminUrl().empty(); }

std::string TestStoreUrl(const std::string& data_dir) {
  std::string admin = TestAdminUrl();
  if (admin.empty()) return "";
  std::string db = DatabaseFor(data_dir);
  Result<pg::Conn> conn = pg::Conn::Connect(admin);
  if (conn.ok()) {
    Result<pg::Res> made = conn->Exec("CREATE DATABASE " + db + " OWNER " + kAppRole);
    // Already there: another server or command on the same data dir made it (23505 when both
    // created it at the same moment).
    const std::string& why = made.status().message();
    if (!made.ok() && why.find("42P04") == std::string::npos && why.find("23505") == std::string::npos) {
      std::fprintf(stderr, "cannot create test database %s: %s\n", db.c_str(),
                   made.status().message().c_str());
    }
  } else {
    std::fprintf(stderr, "cannot reach the test PostgreSQL: %s\n", conn.status().message().c_str());
  }
  auto [scheme, host] = SplitUrl(admin);
  return scheme + kAppRole + "@" + host + "/" + db;
}

void DropTestStore(const std::string& data_dir) {
  std::string admin = TestAdminUrl();
  if (admin.empty()) return;
  Result<pg::Conn> conn = pg::Conn::Connect(admin);
  if (conn.ok()) (void)conn->Exec("DROP DATABASE IF EXISTS " + DatabaseFor(data_dir) + " WITH (FORCE)");
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-test-XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  path_ = made ? std::string(made) : std::string();
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

ServerProcess::ServerProcess(ServerConfig config) : config_(std::move(config)) {
  data_dir_ = config_.data_dir.empty() ? temp_.path() + "/data" : config_.data_dir;
  log_path_ = temp_.path() + "/server.log";
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill();
  if (config_.data_dir.empty()) DropTestStore(data_dir_);
}

namespace {
std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// The child's environment: the runner's, without any FUNCTION_CODE_* or OMNIFLOW_* variable
// (a key or secret exported in the shell that runs the tests must not change what a test
// serves), then `env`. Built before fork: the child only calls execve.
std::vector<std::string> ChildEnvironment(const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry = *e;
    std::string_view name = entry.substr(0, entry.find('='));
    if (name.starts_with("FUNCTION_CODE_") || name.starts_with("OMNIFLOW_")) continue;
    if (HasEnv(env, std::string(name))) continue;  // the test's own value replaces it
    out.emplace_back(entry);
  }
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}
}  // namespace

bool ServerProcess::Start(std::string* error) {
  int out[2];
  if (::pipe(out) != 0) return false;
  std::vector<std::string> args = {OMNIFLOW_BINARY, "serve",     "--host",   config_.host,
                                   "--port",        "0",         "--data-dir", data_dir_};
  args.insert(args.end(), config_.args.begin(), config_.args.end());
  if (TestingPostgres() && !HasArg(config_.args, "--store") && !HasEnv(config_.env, "OMNIFLOW_STORE")) {
    args.insert(args.end(), {"--store", TestStoreUrl(data_dir_)});
  }
  std::vector<std::string> environment = ChildEnvironment(config_.env);
  auto argv = Argv(args);
  auto envp = Argv(environment);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDERR_FILENO);
    ::close(out[0]);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(out[1]);
  // Wait for "omniflow listening on http://host:port".
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  char c;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(out[0], &c, 1);
    if (n <= 0) break;
    if (c == '\n') {
      size_t colon = line.rfind(':');
      if (line.find("listening on") != std::string::npos && colon != std::string::npos) {
        port_ = static_cast<uint16_t>(std::atoi(line.c_str() + colon + 1));
        break;
      }
      line.clear();
    } else {
      line.push_back(c);
    }
  }
  ::close(out[0]);
  if (port_ == 0) {
    if (error) *error = "server did not start; log:\n" + Log();
    Kill();
    return false;
  }
  return true;
}

int ServerProcess::Stop(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      port_ = 0;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ReportHang();
  Kill();
  return -1;
}

void ServerProcess::ReportHang() const {
  // What each thread was doing when a stop did not finish: without it a rare hang under CI
  // load leaves nothing to read but "-1".
  std::string stacks;
  std::string command = "gdb -batch -nx -p " + std::to_string(pid_) +
                        " -ex 'thread apply all bt 30' 2>&1";
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) stacks.append(buffer, n);
    ::pclose(pipe);
  }
  // gdb announces every thread it attaches to before the stacks that say the same.
  std::string kept;
  std::istringstream lines(stacks);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("[New LWP", 0) != 0) kept += line + "\n";
  }
  stacks = std::move(kept);
  std::string log = Log();
  if (log.size() > 8000) log = "..." + log.substr(log.size() - 8000);
  std::fprintf(stderr, "server pid %d did not stop in time; its threads:\n%s\nits log:\n%s\n",
               static_cast<int>(pid_), stacks.c_str(), log.c_str());
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  port_ = 0;
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int ServerProcess::RunCommand(const std::vector<std::string>& args_in,
                              const std::vector<std::pair<std::string, std::string>>& env,
                              std::string* output) {
  int out[2];
  if (::pipe(out) != 0) return -1;
  std::vector<std::string> args = {OMNIFLOW_BINARY};
  args.insert(args.end(), args_in.begin(), args_in.end());
  // A command on a data dir (import, migrate, serve) uses that data dir's database.
  for (size_t i = 0; i + 1 < args_in.size(); ++i) {
    if (args_in[i] == "--data-dir" && TestingPostgres() && !HasArg(args_in, "--store") &&
        !HasEnv(env, "OMNIFLOW_STORE")) {
      args.insert(args.end(), {"--store", TestStoreUrl(args_in[i + 1])});
      break;
    }
  }
  std::vector<std::string> environment = ChildEnvironment(env);
  auto argv = Argv(args);
  auto envp = Argv(environment);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::close(out[0]);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(out[1]);
  char buf[4096];
  ssize_t n;
  std::string collected;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) collected.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (output) *output = collected;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace omniflow::testing
