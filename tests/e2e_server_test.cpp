// End-to-end: the command line, graceful stop, HTTP edge cases and the import command.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "support/e2e.h"

namespace omniflow::testing {
namespace {

TEST(E2eServer, HelpAndVersion) {
  std::string out;
  EXPECT_EQ(ServerProcess::RunCommand({"--version"}, {}, &out), 0);
  EXPECT_NE(out.find("omniflow "), std::string::npos);
  EXPECT_EQ(ServerProcess::RunCommand({"serve", "--help"}, {}, &out), 0);
  for (const char* flag : {"--host", "--port", "--data-dir", "--threads", "--max-body", "--insecure"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(out.find("OMNIFLOW_PORT"), std::string::npos);
  EXPECT_NE(ServerProcess::RunCommand({"serve", "--port", "notaport"}, {}, &out), 0);
}

// Regression: the writer kept each batch's callbacks, and with them the connections that had
// saved, until the next batch; a graceful stop then waited out its whole drain timeout.
TEST(E2eServer, StopAfterSavesClosesIdleConnectionsAtOnce) {
  RunningServer s;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(s.client->Post("/api/save_interaction", SaveBody("then stop"), As("stopper")).status, 201);
  }
  HttpClient idle(s.server->port());  // a second, idle keep-alive connection
  ASSERT_EQ(idle.Get("/healthz").status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(s.server->Stop(), 0);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.server->Log().find("event=drain_timeout"), std::string::npos) << s.server->Log();
  EXPECT_LT(took, std::chrono::seconds(9)) << "the stop waited for the 10 s drain timeout";
}

// Reads an interim response (up to its blank line) from `fd`; what came, if it closed or 10 s
// passed first.
std::string ReadInterim(int fd) {
  std::string got;
  char c;
  pollfd p{fd, POLLIN, 0};
  while (got.find("\r\n\r\n") == std::string::npos && ::poll(&p, 1, 10000) == 1 &&
         ::recv(fd, &c, 1, 0) == 1) {
    got.push_back(c);
  }
  return got;
}

// A graceful stop closes idle connections and lets the requests it has begun reading finish.
// A request is known to be begun when the server has answered its `Expect: 100-continue`: the
// test holds saves there on several connections, sends SIGTERM, waits until an idle connection
// is closed (the stop has begun) and only then sends their bodies. Every one must be saved and
// answered 201: a dropped connection (status 0) or a 5xx is a failure.
TEST(E2eServer, SigtermDrainsInFlightSavesAndExitsZero) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  constexpr int kBefore = 20;
  for (int i = 0; i < kBefore; ++i) {
    ASSERT_EQ(s.client->Post("/api/save_interaction", SaveBody("before"), As("drainer")).status, 201);
  }
  constexpr int kInFlight = 8;
  const std::string body = SaveBody("in flight");
  const std::string head = "POST /api/save_interaction HTTP/1.1\r\nHost: localhost\r\nX-User-Id: drainer\r\n"
                           "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  std::vector<int> in_flight;
  for (int i = 0; i < kInFlight; ++i) {
    int fd = s.client->Connect();
    ASSERT_GE(fd, 0);
    in_flight.push_back(fd);
    ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
    std::string interim = ReadInterim(fd);
    ASSERT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << interim;
  }
  int idle = s.client->Connect();  // an idle keep-alive connection: closed when the stop begins
  ASSERT_GE(idle, 0);
  // Accepted in order: once a later connection is answered, `idle` has been accepted.
  ASSERT_EQ(HttpClient(s.server->port()).Get("/healthz").status, 200);
  s.client.reset();

  auto start = std::chrono::steady_clock::now();
  int code = -2;
  std::jthread stopper([&] { code = s.server->Stop(); });  // SIGTERM, then waits for the exit
  pollfd p{idle, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1) << "the idle connection was not closed on SIGTERM";
  char c;
  EXPECT_LE(::recv(idle, &c, 1, 0), 0) << "the idle connection got data instead of a close";
  ::close(idle);

  for (int fd : in_flight) {
    ASSERT_EQ(::send(fd, body.data(), body.size(), MSG_NOSIGNAL), static_cast<ssize_t>(body.size()));
  }
  for (int i = 0; i < kInFlight; ++i) {
    HttpResponse r = HttpClient::ReadResponse(in_flight[i], 10000);
    ::close(in_flight[i]);
    EXPECT_EQ(r.status, 201) << "in-flight save " << i << " (0: dropped): " << r.body;
    EXPECT_EQ(r.Header("connection"), "close") << "a stopping server keeps no connection open";
  }
  stopper.join();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(code, 0);
  EXPECT_LT(took, std::chrono::seconds(9)) << "the stop waited for the 10 s drain timeout";
  EXPECT_EQ(s.server->Log().find("event=drain_timeout"), std::string::npos) << s.server->Log();

  // Every answered save is there after the restart, and nothing else.
  std::string error;
  ASSERT_TRUE(s.server->Start(&error)) << error;
  HttpClient client(s.server->port());
  HttpResponse r = client.Get("/api/get_interaction_history?limit=1", As("drainer"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json(), "total"), kBefore + kInFlight);
}

TEST(E2eServer, ExpectContinueIsHonoured) {
  RunningServer s;
  std::string body = SaveBody("continue");
  std::string head = "POST /api/save_interaction HTTP/1.1\r\nHost: localhost\r\nX-User-Id: cont\r\n"
                     "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  int fd = s.client->Connect();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  char buf[64] = {};
  ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 100 Continue", 0), 0u) << buf;
  ASSERT_EQ(::send(fd, body.data(), body.size(), MSG_NOSIGNAL), static_cast<ssize_t>(body.size()));
  HttpResponse r = HttpClient::ReadResponse(fd, 5000);
  ::close(fd);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST(E2eServer, MalformedHttpGets400AndServerKeepsServing) {
  RunningServer s;
  EXPECT_EQ(s.client->Raw("GARBAGE\r\n\r\n").status, 400);
  EXPECT_EQ(s.client->Raw("GET / HTTP/9.9\r\n\r\n").status, 400);
  HttpResponse big = s.client->Raw("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') +
                                   "\r\n\r\n");
  EXPECT_EQ(big.status, 431);
  EXPECT_EQ(s.client->Get("/healthz").status, 200);
}

TEST(E2eServer, ImportKeepsTimestampsAndServesThem) {
  TempDir dir;
  std::string data = dir.path() + "/data";
  std::string out;
  int code = ServerProcess::RunCommand(
      {"import", std::string(OMNIFLOW_SOURCE_DIR) + "/tests/fixtures/interactions_sample.jsonl",
       "--data-dir", data}, {}, &out);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("imported 300 interactions"), std::string::npos) << out;
  ServerConfig config;
  config.data_dir = data;
  RunningServer s(config);
  HttpResponse r = s.client->Get("/api/get_interaction_history?limit=1000", As("user_005"));
  ASSERT_EQ(r.status, 200);
  int64_t total = 0;
  total = IntAt(r.Json(), "total");
  EXPECT_GT(total, 0);
  std::string previous = "9999";
  for (auto item : Items(r.Json())) {
    std::string ts(item["timestamp"].get_string().value());
    EXPECT_LE(ts, previous);
    EXPECT_EQ(ts.substr(0, 7), "2025-12");
    previous = ts;
  }
}

}  // namespace
}  // namespace omniflow::testing
