// End-to-end: the command line, graceful stop, HTTP edge cases and the import command.
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

TEST(E2eServer, SigtermDrainsInFlightSavesAndExitsZero) {
  RunningServer s;
  constexpr int kThreads = 4;
  std::atomic<int> acked{0};
  std::atomic<bool> go{true};
  std::vector<std::thread> threads;
  const uint16_t port = s.server->port();  // read here: Stop() resets it while threads run
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, port] {
      HttpClient client(port);
      while (go) {
        HttpResponse r = client.Post("/api/save_interaction", SaveBody("drain"), As("drainer"));
        if (r.status == 201) ++acked; else break;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  int code = s.server->Stop();
  auto took = std::chrono::steady_clock::now() - start;
  go = false;
  for (auto& t : threads) t.join();
  EXPECT_EQ(code, 0);
  EXPECT_LT(took, std::chrono::seconds(12));
  ASSERT_GT(acked.load(), 0);
  // Every acknowledged save is there after the restart.
  std::string error;
  ASSERT_TRUE(s.server->Start(&error)) << error;
  HttpClient client(s.server->port());
  HttpResponse r = client.Get("/api/get_interaction_history?limit=1", As("drainer"));
  int64_t total = 0;
  total = IntAt(r.Json(), "total");
  EXPECT_GE(total, acked.load());
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
