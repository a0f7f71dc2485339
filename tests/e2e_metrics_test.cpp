// GET /metrics and GET /openapi.json over real sockets and the real binary, on SQLite and, in
// the pg. pass, on PostgreSQL: who may read the metrics; requests counted by the route table's
// pattern and status; saves counted by source; and a real Prometheus (Debian's `prometheus`)
// scraping a running server with the metrics token, read back through its query API.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "auth/jwt.h"
#include "support/e2e.h"

extern char** environ;

namespace omniflow::testing {
namespace {

constexpr char kAdmin[] = "metrics-admin-key-0123456789";
constexpr char kMetricsToken[] = "metrics-scrape-token-0123456789";
constexpr char kSecret[] = "metrics-jwt-secret-0123456789abcdef";

std::string UserToken(const std::string& sub) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(now + 600) + "}", kSecret);
}

ServerConfig Closed() {
  ServerConfig config;
  config.env = {{"OMNIFLOW_ADMIN_KEY", kAdmin},
                {"OMNIFLOW_METRICS_TOKEN", kMetricsToken},
                {"OMNIFLOW_JWT_SECRET", kSecret}};
  return config;
}

// The value of the sample `series` (name and labels exactly as rendered) in `text`; -1 if absent.
double SampleValue(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) {
    if (text.rfind(prefix, 0) != 0) return -1;
    at = 0;
  } else {
    at += 1;
  }
  return std::stod(text.substr(at + prefix.size()));
}

TEST(E2eMetrics, NeedTheAdminKeyOrTheMetricsTokenOnceCredentialsAreConfigured) {
  RunningServer s(Closed());
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  EXPECT_EQ(c.Get("/metrics").status, 401);
  EXPECT_EQ(c.Get("/metrics", {{"Authorization", "Bearer wrong-token"}}).status, 401);
  EXPECT_EQ(c.Get("/metrics", {{"x-functions-key", "wrong-key"}}).status, 401);
  EXPECT_EQ(c.Get("/metrics", {{"Authorization", "Bearer " + UserToken("alice")}}).status, 403);
  for (const Headers& ok : std::vector<Headers>{
           {{"x-functions-key", kAdmin}},
           {{"Authorization", std::string("Bearer ") + kAdmin}},
           {{"Authorization", std::string("Bearer ") + kMetricsToken}}}) {
    HttpResponse r = c.Get("/metrics", ok);
    EXPECT_EQ(r.status, 200) << ok.front().second << ": " << r.body;
    EXPECT_EQ(r.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body.find("# TYPE omniflow_http_requests_total counter"), std::string::npos);
  }
  // The metrics token opens nothing else.
  EXPECT_EQ(c.Get("/api/holds", {{"Authorization", std::string("Bearer ") + kMetricsToken}}).status,
            401);
  EXPECT_EQ(c.Get("/api/get_interaction_history",
                  {{"x-functions-key", kMetricsToken}, {"X-User-Id", "alice"}})
                .status,
            401);
  // Not forwarded by proxy_router.
  EXPECT_EQ(c.Get("/api/proxy_router/metrics", {{"x-functions-key", kAdmin}}).status, 404);
}

TEST(E2eMetrics, OpenDevelopmentModeServesThemToLoopbackOnly) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  EXPECT_EQ(s.client->Get("/metrics").status, 200);
  EXPECT_EQ(s.client->Raw("GET /metrics HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
                .status,
            403);
  EXPECT_EQ(s.client->Get("/metrics", {{"Origin", "http://evil.example"}}).status, 403);
}

TEST(E2eMetrics, CountRequestsByRoutePatternAndSavesBySource) {
  RunningServer s(Closed());
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  const Headers admin_as_alice = {{"x-functions-key", kAdmin}, {"X-User-Id", "alice"}};
  std::string id;
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = c.Post("/api/save_interaction", SaveBody("counted " + std::to_string(i)),
                            admin_as_alice);
    ASSERT_EQ(r.status, 201) << r.body;
    id = std::string(r.Json()["interaction_id"].get_string().value());
  }
  ASSERT_EQ(c.Post("/api/proxy_router/save_interaction", SaveBody("through the router"),
                   admin_as_alice).status, 201);
  ASSERT_EQ(c.Get("/api/interactions/" + id, admin_as_alice).status, 200);
  ASSERT_EQ(c.Get("/api/interactions/INT_NOPE", admin_as_alice).status, 404);
  ASSERT_EQ(c.Get("/no/such/path").status, 404);
  HttpResponse m = c.Get("/metrics", {{"x-functions-key", kAdmin}});
  ASSERT_EQ(m.status, 200);
  const std::string& t = m.body;
  EXPECT_EQ(SampleValue(t, R"(omniflow_interactions_captured_total{source="save_interaction"})"), 6)
      << t;
  EXPECT_EQ(SampleValue(t, R"(omniflow_interactions_captured_total{source="otlp"})"), 0);
  EXPECT_EQ(SampleValue(t, R"(omniflow_http_requests_total{method="POST",route="/api/save_interaction",code="201"})"), 5) << t;
  EXPECT_EQ(SampleValue(t, R"(omniflow_http_requests_total{method="POST",route="/api/proxy_router/save_interaction",code="201"})"), 1);
  // The pattern, never the raw path: ids never become label values.
  EXPECT_EQ(SampleValue(t, R"(omniflow_http_requests_total{method="GET",route="/api/interactions/{interaction_id}",code="200"})"), 1);
  EXPECT_EQ(SampleValue(t, R"(omniflow_http_requests_total{method="GET",route="/api/interactions/{interaction_id}",code="404"})"), 1);
  EXPECT_EQ(SampleValue(t, R"(omniflow_http_requests_total{method="",route="none",code="404"})"), 1);
  EXPECT_EQ(t.find(id), std::string::npos);
  EXPECT_EQ(t.find("alice"), std::string::npos);
  EXPECT_EQ(SampleValue(t, R"(omniflow_http_request_duration_seconds_count{method="POST",route="/api/save_interaction"})"), 5);
  EXPECT_EQ(SampleValue(t, R"(omniflow_writer_saves_total{outcome="committed"})"), 6);
  EXPECT_EQ(SampleValue(t, "omniflow_writer_queue_depth"), 0);
  EXPECT_GE(SampleValue(t, "omniflow_writer_batch_size_count"), 1);
  EXPECT_EQ(SampleValue(t, "omniflow_writer_batch_size_sum"), 6);
  EXPECT_GE(SampleValue(t, "omniflow_writer_commit_duration_seconds_count"), 1);
  EXPECT_EQ(SampleValue(t, "omniflow_spool_bytes"), 0);
  EXPECT_GT(SampleValue(t, "omniflow_store_size_bytes"), 4096) << t;
  if (!TestingPostgres()) {
    EXPECT_GE(SampleValue(t, "omniflow_search_index_lag"), 0);
  }
}

TEST(E2eOpenApi, IsPublicAndDescribesEveryRoute) {
  RunningServer s(Closed());
  ASSERT_TRUE(s.started);
  HttpResponse r = s.client->Get("/openapi.json");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element doc = r.Json();
  EXPECT_EQ(doc["openapi"].get_string().value(), "3.1.0");
  simdjson::dom::element op;
  EXPECT_EQ(doc["paths"]["/api/interactions/{interaction_id}"]["get"].get(op), simdjson::SUCCESS);
  EXPECT_EQ(doc["paths"]["/metrics"]["get"].get(op), simdjson::SUCCESS);
  EXPECT_EQ(doc["paths"]["/api/proxy_router/get_interaction/{interaction_id}"]["get"].get(op),
            simdjson::SUCCESS);
}

// A free loopback port (bound, read and released).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string FindPrometheus() {
  for (const char* path : {"/usr/bin/prometheus", "/usr/local/bin/prometheus"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return {};
}

std::string UrlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

// A Prometheus process with its own config and storage, killed on destruction.
class PrometheusProcess {
 public:
  PrometheusProcess(const std::string& binary, const std::string& config, int port) {
    const std::string config_path = dir_.path() + "/prometheus.yml";
    std::ofstream(config_path) << config;
    log_path_ = dir_.path() + "/prometheus.log";
    std::vector<std::string> args = {binary,
                                     "--config.file=" + config_path,
                                     "--storage.tsdb.path=" + dir_.path() + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                     "--log.level=warn"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~PrometheusProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  bool started() const { return pid_ > 0; }
  std::string Log() const {
    std::ifstream in(log_path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TempDir dir_;
  std::string log_path_;
  pid_t pid_ = -1;
};

// The single value of an instant query's vector result, or -1 (no result yet, or no answer).
double QueryValue(uint16_t port, const std::string& query) {
  HttpClient client(port);
  HttpResponse r = client.Get("/api/v1/query?query=" + UrlEncode(query));
  if (r.status != 200) return -1;
  simdjson::dom::element doc = r.Json();
  simdjson::dom::array result;
  if (doc["data"]["result"].get(result) != simdjson::SUCCESS || result.size() != 1) return -1;
  std::string_view value;
  if (result.at(0)["value"].at(1).get(value) != simdjson::SUCCESS) return -1;
  return std::stod(std::string(value));
}

TEST(PrometheusScrape, ReadsTheSavesMadeBackThroughTheQueryApi) {
  const std::string binary = FindPrometheus();
  if (binary.empty()) {
    GTEST_SKIP() << "Debian's prometheus is not installed (scripts/install-deps.sh test)";
  }
  RunningServer s(Closed());
  ASSERT_TRUE(s.started);
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string config =
      "global:\n"
      "  scrape_interval: 1s\n"
      "  scrape_timeout: 900ms\n"
      "scrape_configs:\n"
      "  - job_name: omniflow\n"
      "    metrics_path: /metrics\n"
      "    authorization:\n"
      "      type: Bearer\n"
      "      credentials: " + std::string(kMetricsToken) + "\n"
      "    static_configs:\n"
      "      - targets: ['127.0.0.1:" + std::to_string(s.server->port()) + "']\n";
  PrometheusProcess prometheus(binary, config, port);
  ASSERT_TRUE(prometheus.started());

  constexpr int kSaves = 7;
  const Headers admin_as_bob = {{"x-functions-key", kAdmin}, {"X-User-Id", "bob"}};
  for (int i = 0; i < kSaves; ++i) {
    ASSERT_EQ(s.client->Post("/api/save_interaction", SaveBody("scraped " + std::to_string(i)),
                             admin_as_bob).status,
              201);
  }
  // Prometheus starts, scrapes every second; the saves show within a few scrapes.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  double captured = -1, requests = -1, up = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    up = QueryValue(static_cast<uint16_t>(port), R"(up{job="omniflow"})");
    captured = QueryValue(static_cast<uint16_t>(port),
                          R"(omniflow_interactions_captured_total{job="omniflow",source="save_interaction"})");
    requests = QueryValue(static_cast<uint16_t>(port),
                          R"(sum(omniflow_http_requests_total{route="/api/save_interaction",code="201"}))");
    if (up == 1 && captured == kSaves && requests == kSaves) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(up, 1) << prometheus.Log();
  EXPECT_EQ(captured, kSaves) << prometheus.Log();
  EXPECT_EQ(requests, kSaves) << prometheus.Log();
  // A histogram through PromQL: the save route's latency has its observations.
  EXPECT_EQ(QueryValue(static_cast<uint16_t>(port),
                       R"(sum(omniflow_http_request_duration_seconds_count{route="/api/save_interaction"}))"),
            kSaves);
  // And the server saw Prometheus's scrapes, with the token.
  HttpResponse m = s.client->Get("/metrics", {{"x-functions-key", kAdmin}});
  EXPECT_GE(SampleValue(m.body, R"(omniflow_http_requests_total{method="GET",route="/metrics",code="200"})"), 1);
}

}  // namespace
}  // namespace omniflow::testing
