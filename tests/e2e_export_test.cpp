// GET /api/export and `omniflow export` / `omniflow import` end to end (issue 13, "Export"): the
// three formats streamed with chunked encoding, who may export what (also through
// proxy_router), the [from, to) range, a large export with the server's memory bounded, a
// client that goes away, the jsonl round trip through import, and import run twice.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "auth/jwt.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

constexpr char kSecret[] = "export-secret-0123456789abcdef";
constexpr char kAdmin[] = "export-admin-key-0123456789";

std::string Token(const std::string& sub) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(now + 600) + "}", kSecret);
}
Headers Bearer(const std::string& user) { return {{"Authorization", "Bearer " + Token(user)}}; }
Headers Admin() { return {{"x-functions-key", kAdmin}}; }

ServerConfig Secured(const std::string& data_dir = "") {
  ServerConfig config;
  config.env = {{"OMNIFLOW_JWT_SECRET", kSecret}, {"OMNIFLOW_ADMIN_KEY", kAdmin}};
  config.data_dir = data_dir;
  return config;
}

std::vector<std::string> Lines(const std::string& text, const std::string& eol = "\n") {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t at = text.find(eol); at != std::string::npos; at = text.find(eol, start)) {
    lines.push_back(text.substr(start, at - start));
    start = at + eol.size();
  }
  EXPECT_EQ(start, text.size()) << "the text must end with a line end";
  return lines;
}

// The interactions of a user's history, oldest first, as their JSON text.
std::vector<std::string> HistoryOldestFirst(HttpClient& c, const std::string& user) {
  HttpResponse r = c.Get("/api/get_interaction_history?limit=1000", {{"x-functions-key", kAdmin}, {"X-User-Id", user}});
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<std::string> items;
  for (simdjson::dom::element item : Items(r.Json())) items.push_back(simdjson::minify(item));
  std::reverse(items.begin(), items.end());
  return items;
}

// Writes `text` to `path`.
void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A save with tool calls, metadata and a thread.
std::string RichBody(const std::string& message, const std::string& thread) {
  return R"({"user_message":")" + message + R"(, \"quoted\"\nline","assistant_response":"done: )" +
         message + R"(","thread_id":")" + thread +
         R"(","tool_calls":[{"tool_name":"add_new_data","arguments":{"item":")" + message +
         R"("},"result":{"id":7},"status":"success"}],"metadata":{"model":"m","latency_ms":12}})";
}

class E2eExport : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RunningServer>(Secured());
    ASSERT_TRUE(server_->started);
    HttpClient& c = *server_->client;
    for (const auto& [user, body] : std::vector<std::pair<std::string, std::string>>{
             {"alice", RichBody("first", "t1")},
             {"alice", SaveBody("second", "t2")},
             {"bob", SaveBody("bob's", "t1")},
             {"alice", RichBody("third", "t1")},
             {"alice", SaveBody("alone")}}) {
      HttpResponse r = c.Post("/api/save_interaction", body, Bearer(user));
      ASSERT_EQ(r.status, 201) << r.body;
      ids_.push_back(std::string(r.Json()["interaction_id"].get_string().value()));
    }
    HttpResponse rated = c.Post("/api/interactions/" + ids_[0] + "/feedback",
                                R"({"score":1,"comment":"good"})", Bearer("alice"));
    ASSERT_EQ(rated.status, 200) << rated.body;
  }
  HttpClient& client() { return *server_->client; }

  std::unique_ptr<RunningServer> server_;
  std::vector<std::string> ids_;  // alice, alice, bob, alice, alice
};

TEST_F(E2eExport, JsonlIsHistorysObjectsOldestFirstStreamedChunked) {
  HttpResponse r = client().Get("/api/export?format=jsonl", Bearer("alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.chunked);
  EXPECT_TRUE(r.complete);
  EXPECT_GE(r.chunks, 1);
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(r.Header("content-length"), "");
  EXPECT_EQ(Lines(r.body), HistoryOldestFirst(client(), "alice"));
  EXPECT_EQ(Lines(r.body).size(), 4u);
  // The connection stays usable after a streamed answer.
  EXPECT_EQ(client().Get("/healthz").status, 200);
}

TEST_F(E2eExport, CsvHasTheHeaderQuotedFieldsJsonColumnsAndTheFeedbackScore) {
  HttpResponse r = client().Get("/api/export?format=csv&thread_id=t1", Bearer("alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.Header("content-type"), "text/csv; charset=utf-8");
  const std::string header =
      "interaction_id,timestamp,user_id,thread_id,user_message,assistant_response,tool_calls,"
      "metadata,feedback_score\r\n";
  ASSERT_EQ(r.body.substr(0, header.size()), header);
  // Row 1: quoted message with a doubled quote and a line break, the JSON columns, score 1.
  EXPECT_NE(r.body.find(ids_[0] + ","), std::string::npos);
  EXPECT_NE(r.body.find(",alice,t1,\"first, \"\"quoted\"\"\nline\",done: first,"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(
                R"("[{""tool_name"":""add_new_data"",""arguments"":{""item"":""first""},""result"":{""id"":7},""status"":""success""}]")"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("{""model"":""m"",""latency_ms"":12}",1)" "\r\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(ids_[3] + ","), std::string::npos);
  EXPECT_EQ(r.body.find(ids_[1]), std::string::npos);  // thread t2
  EXPECT_EQ(r.body.find("bob"), std::string::npos);
}

TEST_F(E2eExport, OpenAiIsOneLinePerThreadWithToolTurnsAndALineForEachLoneInteraction) {
  HttpResponse r = client().Get("/api/export?format=openai", Bearer("alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  std::vector<std::string> lines = Lines(r.body);
  ASSERT_EQ(lines.size(), 3u) << r.body;  // t1, t2, and the interaction without a thread
  const std::string t1 =
      R"({"messages":[{"role":"user","content":"first, \"quoted\"\nline"},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_)" + ids_[0] +
      R"(_0","type":"function","function":{"name":"add_new_data","arguments":"{\"item\":\"first\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"call_)" + ids_[0] + R"(_0","content":"{\"id\":7}"},)"
      R"({"role":"assistant","content":"done: first"},)"
      R"({"role":"user","content":"third, \"quoted\"\nline"},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_)" + ids_[3] +
      R"(_0","type":"function","function":{"name":"add_new_data","arguments":"{\"item\":\"third\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"call_)" + ids_[3] + R"(_0","content":"{\"id\":7}"},)"
      R"({"role":"assistant","content":"done: third"}]})";
  EXPECT_EQ(lines[0], t1);
  EXPECT_EQ(lines[1], R"({"messages":[{"role":"user","content":"second"},{"role":"assistant","content":"re: second"}]})");
  EXPECT_EQ(lines[2], R"({"messages":[{"role":"user","content":"alone"},{"role":"assistant","content":"re: alone"}]})");
}

TEST_F(E2eExport, WhoMayExportWhat) {
  HttpClient& c = client();
  // A user's own credentials: their own data only; naming another user is 403.
  HttpResponse own = c.Get("/api/export", Bearer("alice"));
  ASSERT_EQ(own.status, 200);
  EXPECT_EQ(Lines(own.body).size(), 4u);
  EXPECT_EQ(own.body.find("\"user_id\":\"bob\""), std::string::npos);
  EXPECT_EQ(c.Get("/api/export?user_id=bob", Bearer("alice")).status, 403);
  EXPECT_EQ(c.Get("/api/export?user_id=alice", Bearer("alice")).status, 200);
  // No credentials, or a bad token: 401, nothing streamed.
  HttpResponse none = c.Get("/api/export?user_id=alice");
  EXPECT_EQ(none.status, 401);
  EXPECT_FALSE(none.chunked);
  EXPECT_EQ(c.Get("/api/export", {{"Authorization", "Bearer x.y.z"}}).status, 401);
  EXPECT_EQ(c.Get("/api/export", {{"X-User-Id", "alice"}}).status, 401);
  // The admin key: everyone, or the user named.
  HttpResponse all = c.Get("/api/export", Admin());
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(Lines(all.body).size(), 5u);
  HttpResponse bob = c.Get("/api/export?user_id=bob&format=csv", Admin());
  ASSERT_EQ(bob.status, 200);
  EXPECT_EQ(Lines(bob.body, "\r\n").size(), 2u);  // header and bob's one row
  // Through proxy_router, as the verified user and no one else.
  HttpResponse routed = c.Get("/api/proxy_router/export?format=jsonl", Bearer("alice"));
  ASSERT_EQ(routed.status, 200) << routed.body;
  EXPECT_TRUE(routed.chunked);
  EXPECT_EQ(Lines(routed.body), Lines(own.body));
  EXPECT_EQ(c.Get("/api/proxy_router/export?user_id=bob", Bearer("alice")).status, 403);
  EXPECT_EQ(c.Get("/api/proxy_router/export").status, 401);
  // Bad parameters are 400 before anything is streamed.
  EXPECT_EQ(c.Get("/api/export?format=xml", Bearer("alice")).status, 400);
  EXPECT_EQ(c.Get("/api/export?from=yesterday", Bearer("alice")).status, 400);
  EXPECT_EQ(c.Get("/api/export?thread_id=.bad", Bearer("alice")).status, 400);
}

// Imports `lines` into `data_dir` with `omniflow import`; returns its output.
std::string ImportLines(const std::string& data_dir, const std::string& file,
                        const std::string& lines, int want_code = 0) {
  WriteFile(file, lines);
  std::string out;
  int code = ServerProcess::RunCommand({"import", file, "--data-dir", data_dir}, {}, &out);
  EXPECT_EQ(code, want_code) << out;
  return out;
}

TEST(E2eExportRange, FromToIsHalfOpenOnBothTheApiAndTheCli) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  std::string lines;
  for (int day = 1; day <= 4; ++day) {
    lines += R"({"user_id":"carol","timestamp":"2025-12-0)" + std::to_string(day) +
             R"(T00:00:00Z","user_message":"day )" + std::to_string(day) +
             R"(","assistant_response":"ok"})" "\n";
  }
  ImportLines(data, dir.path() + "/in.jsonl", lines);
  RunningServer s(Secured(data));
  ASSERT_TRUE(s.started);
  HttpResponse r = s.client->Get("/api/export?from=2025-12-02&to=2025-12-04T00:00:00Z", Bearer("carol"));
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> got = Lines(r.body);
  ASSERT_EQ(got.size(), 2u) << r.body;
  EXPECT_NE(got[0].find("\"day 2\""), std::string::npos);
  EXPECT_NE(got[1].find("\"day 3\""), std::string::npos);
  EXPECT_EQ(s.client->Get("/api/export?from=2025-12-03&to=2025-12-02", Bearer("carol")).status, 400);
  // The CLI reads the range the same way.
  std::string out;
  const std::string file = dir.path() + "/out.csv";
  int code = ServerProcess::RunCommand({"export", "--data-dir", data, "--format", "csv", "--user",
                                        "carol", "--from", "2025-12-02", "--to", "2025-12-04",
                                        "-o", file}, {}, &out);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("exported 2 interactions"), std::string::npos) << out;
  const std::string csv = ReadFile(file);
  EXPECT_EQ(Lines(csv, "\r\n").size(), 3u) << csv;
  EXPECT_NE(csv.find(",day 2,"), std::string::npos) << csv;
}

TEST_F(E2eExport, JsonlRoundTripsThroughImportAndASecondImportAddsNothing) {
  TempDir dir;
  const std::string file = dir.path() + "/all.jsonl";
  HttpResponse all = client().Get("/api/export?format=jsonl", Admin());
  ASSERT_EQ(all.status, 200);
  WriteFile(file, all.body);
  const std::string fresh = dir.path() + "/fresh";
  std::string out;
  ASSERT_EQ(ServerProcess::RunCommand({"import", file, "--data-dir", fresh}, {}, &out), 0) << out;
  EXPECT_NE(out.find("imported 5 interactions, 0 already present, 0 conflicts, 0 skipped"),
            std::string::npos) << out;
  ASSERT_EQ(ServerProcess::RunCommand({"import", file, "--data-dir", fresh}, {}, &out), 0) << out;
  EXPECT_NE(out.find("imported 0 interactions, 5 already present, 0 conflicts, 0 skipped"),
            std::string::npos) << out;
  {
    RunningServer copy(Secured(fresh));
    ASSERT_TRUE(copy.started);
    for (const std::string user : {"alice", "bob"}) {
      EXPECT_EQ(HistoryOldestFirst(*copy.client, user), HistoryOldestFirst(client(), user)) << user;
    }
  }
  // The CLI's jsonl export of the copy is the server's, byte for byte.
  const std::string cli_file = dir.path() + "/cli.jsonl";
  ASSERT_EQ(ServerProcess::RunCommand({"export", "--data-dir", fresh, "--format", "jsonl", "-o",
                                       cli_file}, {}, &out), 0) << out;
  EXPECT_EQ(ReadFile(cli_file), all.body);
}

TEST(E2eImport, ConflictsAreReportedByLineAndSameMicrosecondLinesAllLand) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string ts = "2025-12-05T10:00:00.000001Z";
  const std::string id = "INT_20251205_100000_000001";
  // Two different interactions of one user in one microsecond, without ids, and one with an id.
  const std::string first =
      R"({"user_id":"dan","timestamp":")" + ts + R"(","user_message":"a","assistant_response":"x"})" "\n" +
      R"({"user_id":"dan","timestamp":")" + ts + R"(","user_message":"b","assistant_response":"y"})" "\n" +
      R"({"user_id":"dan","interaction_id":")" + id + R"(_7","timestamp":")" + ts +
      R"(","user_message":"c","assistant_response":"z"})" "\n";
  std::string out = ImportLines(data, dir.path() + "/a.jsonl", first);
  EXPECT_NE(out.find("imported 3 interactions, 0 already present, 0 conflicts, 0 skipped"),
            std::string::npos) << out;
  out = ImportLines(data, dir.path() + "/a.jsonl", first);
  EXPECT_NE(out.find("imported 0 interactions, 3 already present, 0 conflicts, 0 skipped"),
            std::string::npos) << out;
  // The same ids with other content: conflicts, by line; a new id-less line finds a free id.
  const std::string second =
      R"({"user_id":"dan","interaction_id":")" + id + R"(","timestamp":")" + ts +
      R"(","user_message":"changed","assistant_response":"x"})" "\n" +
      "not json\n" +
      R"({"user_id":"dan","interaction_id":")" + id + R"(_7","timestamp":")" + ts +
      R"(","user_message":"c","assistant_response":"z"})" "\n" +
      R"({"user_id":"dan","timestamp":")" + ts + R"(","user_message":"d","assistant_response":"w"})" "\n";
  const std::string file = dir.path() + "/b.jsonl";
  out = ImportLines(data, file, second, 3);
  EXPECT_NE(out.find(file + ":1: conflict: " + id + " of user dan"), std::string::npos) << out;
  EXPECT_NE(out.find(file + ":2: skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("imported 1 interactions, 1 already present, 1 conflicts, 1 skipped"),
            std::string::npos) << out;
  EXPECT_EQ(out.find("UNIQUE"), std::string::npos) << out;
  EXPECT_EQ(out.find("stopped"), std::string::npos) << out;
  RunningServer s(Secured(data));
  ASSERT_TRUE(s.started);
  std::vector<std::string> history = HistoryOldestFirst(*s.client, "dan");
  ASSERT_EQ(history.size(), 4u);
  std::string all;
  for (const std::string& h : history) all += h + "\n";
  for (const std::string& want : {id + "\"", id + "_2\"", id + "_3\"", id + "_7\""}) {
    EXPECT_NE(all.find("\"interaction_id\":\"" + want), std::string::npos) << want << "\n" << all;
  }
  EXPECT_EQ(all.find("changed"), std::string::npos);
}

// The peak resident memory of a process, in KiB (VmHWM), or -1.
int64_t PeakRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST(E2eExportLarge, FiftyThousandRowsStreamWithBoundedServerMemoryAndADisconnectStopsIt) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  constexpr int kRows = 50000;
  std::string lines;
  lines.reserve(kRows * 420);
  const std::string filler(200, 'x');
  for (int i = 0; i < kRows; ++i) {
    char ts[40];
    std::snprintf(ts, sizeof ts, "2025-11-%02dT%02d:%02d:%02d.%06dZ", 1 + i / 3600 % 28,
                  i / 60 % 24, i % 60, i % 60, i);
    lines += R"({"user_id":"u)" + std::to_string(i % 20) + R"(","timestamp":")" + ts +
             R"(","user_message":"message )" + std::to_string(i) + " " + filler +
             R"(","assistant_response":"answer","thread_id":"t)" + std::to_string(i % 500) +
             R"(","metadata":{"n":)" + std::to_string(i) + "}}\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  ImportLines(data, dir.path() + "/big.jsonl", lines);
  lines = std::string();
  const auto t1 = std::chrono::steady_clock::now();
  RunningServer s(Secured(data));
  ASSERT_TRUE(s.started);
  const pid_t pid = s.server->pid();
  ASSERT_EQ(s.client->Get("/api/export?user_id=u1", Admin()).status, 200);  // warm up
  const int64_t before = PeakRssKib(pid);
  ASSERT_GT(before, 0);

  // A client that reads the head and a little, then goes away: the server stops producing.
  {
    int fd = s.client->Connect();
    ASSERT_GE(fd, 0);
    const std::string req = "GET /api/export HTTP/1.1\r\nHost: 127.0.0.1\r\nx-functions-key: " +
                            std::string(kAdmin) + "\r\n\r\n";
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    char buf[4096];
    pollfd p{fd, POLLIN, 0};
    ASSERT_GT(::poll(&p, 1, 10000), 0);
    ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0);
    ::close(fd);
    bool aborted = false;
    for (int i = 0; i < 100 && !aborted; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      aborted = s.server->Log().find("event=stream_aborted") != std::string::npos;
    }
    EXPECT_TRUE(aborted) << s.server->Log();
    EXPECT_EQ(s.client->Get("/healthz").status, 200);
  }

  const auto t2 = std::chrono::steady_clock::now();
  HttpResponse r = s.client->Get("/api/export?format=jsonl", Admin());
  const auto t3 = std::chrono::steady_clock::now();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_TRUE(r.complete);
  EXPECT_GT(r.chunks, 100);
  EXPECT_EQ(static_cast<int>(std::count(r.body.begin(), r.body.end(), '\n')), kRows);
  const int64_t after = PeakRssKib(pid);
  const double seconds = std::chrono::duration<double>(t3 - t2).count();
  std::printf("export: %d rows, %.1f MB in %.2f s (%.0f rows/s); server VmHWM %lld -> %lld KiB; "
              "import %.2f s\n", kRows, r.body.size() / 1e6, seconds, kRows / seconds,
              static_cast<long long>(before), static_cast<long long>(after),
              std::chrono::duration<double>(t1 - t0).count());
  // The body is ~16 MB; the server's peak may grow by a few pages and pieces, never by it.
  // AddressSanitizer keeps freed memory in quarantine (up to 256 MB) by design, so a peak
  // measured under it says nothing about buffering: the bound is checked in the plain build
  // (`make test`); under ASan the streaming checks above still run.
#if defined(__SANITIZE_ADDRESS__)
  std::printf("server peak not checked under AddressSanitizer (quarantine)\n");
#else
  EXPECT_LT(after - before, 8 * 1024) << "the export must not be buffered whole";
#endif
  EXPECT_GT(r.body.size(), 12u << 20);
}

}  // namespace
}  // namespace omniflow::testing
