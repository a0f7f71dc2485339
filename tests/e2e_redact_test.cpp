// PII redaction at ingest end to end (issue 14): with --redact all, no value a user sent reaches
// any answer (history, by id, search, thread, export) nor any file of the data dir (the SQLite
// database, its WAL, the spool) nor, on PostgreSQL, any row of any table, on every ingest path
// (save_interaction, tool_call_handler's logging, import, and feedback comments); pseudonyms are
// stable across restarts with the same key and differ with another; bad settings stop the server
// with exit status 2.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/postgres/pg_conn.h"
#include "support/e2e.h"
#include "support/fake_llm.h"

namespace omniflow::testing {
namespace {

// Values a user might send, each of one type, in the forms the checks look for.
const std::vector<std::string> kValues = {"ada.lovelace@example.com",
                                          "+49 30 901820",
                                          "4111 1111 1111 1111",
                                          "4111111111111111",
                                          "DE89 3704 0044 0532 0130 00",
                                          "DE89370400440532013000",
                                          "192.168.17.42",
                                          "2001:db8::8a2e:370:7334",
                                          "AKIAIOSFODNN7EXAMPLE",
                                          "ghp_aBcD3fGhIjKlMnOpQrStUvWxYz0123456789"};

// A save body with the values in the messages, in nested tool-call arguments and results, in
// another tool-call field and in metadata; the thread id looks like a phone number on purpose.
std::string PiiBody(const std::string& thread = "thread-4155552671") {
  return R"({"user_message":"I am ada.lovelace@example.com, call +49 30 901820",)"
         R"("assistant_response":"Charged 4111 1111 1111 1111; IBAN DE89 3704 0044 0532 0130 00 noted.",)"
         R"("thread_id":")" +
         thread +
         R"(",)"
         R"("tool_calls":[{"tool_name":"lookup","arguments":{"filter":{"ips":["192.168.17.42","2001:db8::8a2e:370:7334"]}},)"
         R"("result":{"rows":[{"card":"4111111111111111","n":3}]},"status":"success","note":"key AKIAIOSFODNN7EXAMPLE"}],)"
         R"("metadata":{"client":{"token":"ghp_aBcD3fGhIjKlMnOpQrStUvWxYz0123456789","iban":"DE89370400440532013000"}}})";
}

// Every value of kValues found in `text`.
std::vector<std::string> Leaks(const std::string& text) {
  std::vector<std::string> found;
  for (const std::string& v : kValues) {
    if (text.find(v) != std::string::npos) found.push_back(v);
  }
  return found;
}

// Every file under `dir` with the values found in its bytes.
std::vector<std::string> FileLeaks(const std::string& dir) {
  std::vector<std::string> out;
  // The server may be running: a file that goes away meanwhile (a journal) is skipped.
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::filesystem::directory_entry& entry = *it;
    std::error_code gone;
    if (!entry.is_regular_file(gone)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string& v : Leaks(bytes)) out.push_back(entry.path().string() + ": " + v);
  }
  return out;
}

// With PostgreSQL: every row of every table of `data_dir`'s database, as text (the database
// is where the data lives then, not the data dir). Empty with SQLite.
std::string DatabaseText(const std::string& data_dir) {
  if (!TestingPostgres()) return "";
  // As the superuser, whom row-level security does not hide any row from.
  const std::string store = TestStoreUrl(data_dir);
  const std::string admin = TestAdminUrl();
  Result<pg::Conn> conn =
      pg::Conn::Connect(admin.substr(0, admin.rfind('/')) + store.substr(store.rfind('/')));
  EXPECT_TRUE(conn.ok()) << conn.status().message();
  if (!conn.ok()) return "";
  Result<pg::Res> tables = conn->Exec(
      "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
      "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')");
  EXPECT_TRUE(tables.ok()) << tables.status().message();
  std::string all;
  for (int i = 0; tables.ok() && i < tables->rows(); ++i) {
    const std::string table(tables->Text(i, 0));
    Result<pg::Res> rows = conn->Exec("SELECT t::text FROM " + table + " t");
    EXPECT_TRUE(rows.ok()) << table << ": " << rows.status().message();
    for (int r = 0; rows.ok() && r < rows->rows(); ++r)
      all.append(rows->Text(r, 0)).push_back('\n');
  }
  return all;
}

std::string Str(simdjson::dom::element e) {
  std::string_view v;
  return e.get(v) == simdjson::SUCCESS ? std::string(v) : "<not a string>";
}

ServerConfig Redacting(std::vector<std::string> args,
                       std::vector<std::pair<std::string, std::string>> env = {}) {
  ServerConfig config;
  config.args = std::move(args);
  config.env = std::move(env);
  return config;
}

// Every answer that shows `user`'s interactions, concatenated.
std::string EveryAnswer(HttpClient& c, const std::string& user, const std::string& id) {
  std::string all;
  for (const std::string& target :
       {std::string("/api/get_interaction_history?limit=100"), "/api/interactions/" + id,
        std::string("/api/search?q=lovelace"), std::string("/api/search?q=EMAIL"),
        std::string("/api/search?limit=100"), "/api/threads/thread-4155552671?user_id=" + user,
        std::string("/api/export?format=jsonl"), std::string("/api/export?format=csv"),
        std::string("/api/export?format=openai")}) {
    HttpResponse r = c.Get(target, As(user));
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    all += r.body;
  }
  return all;
}

TEST(E2eRedact, MaskedValuesAppearInNoAnswerAndNoFileOfTheDataDir) {
  RunningServer s(Redacting({"--redact", "all"}));
  ASSERT_TRUE(s.started);
  HttpResponse saved = s.client->Post("/api/save_interaction", PiiBody(), As("ada"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  const std::string id = Str(saved.Json()["interaction_id"]);

  HttpResponse one = s.client->Get("/api/interactions/" + id, As("ada"));
  ASSERT_EQ(one.status, 200) << one.body;
  simdjson::dom::element it = one.Json()["interaction"].value_unsafe();
  EXPECT_EQ(Str(it["user_message"]), "I am [EMAIL], call [PHONE]");
  EXPECT_EQ(Str(it["assistant_response"]), "Charged [CARD]; IBAN [IBAN] noted.");
  // Ids, the thread id (digits that would pass for a phone number) and the timestamp stay.
  EXPECT_EQ(Str(it["thread_id"]), "thread-4155552671");
  EXPECT_EQ(Str(it["interaction_id"]), id);
  EXPECT_EQ(Str(it["user_id"]), "ada");
  EXPECT_EQ(Str(it["timestamp"]), Str(saved.Json()["timestamp"]));
  simdjson::dom::element call = it["tool_calls"].at(0).value_unsafe();
  EXPECT_EQ(Str(call["tool_name"]), "lookup");
  EXPECT_EQ(Str(call["arguments"]["filter"]["ips"].at(0)), "[IP]");
  EXPECT_EQ(Str(call["arguments"]["filter"]["ips"].at(1)), "[IP]");
  EXPECT_EQ(Str(call["result"]["rows"].at(0)["card"]), "[CARD]");
  EXPECT_EQ(IntAt(call["result"]["rows"].at(0), "n"), 3);
  EXPECT_EQ(Str(call["note"]), "key [SECRET]");
  EXPECT_EQ(Str(it["metadata"]["client"]["token"]), "[SECRET]");
  EXPECT_EQ(Str(it["metadata"]["client"]["iban"]), "[IBAN]");

  // A feedback comment is redacted too.
  HttpResponse rated =
      s.client->Post("/api/interactions/" + id + "/feedback",
                     R"({"score":1,"comment":"thanks, reach me at 192.168.17.42"})", As("ada"));
  ASSERT_EQ(rated.status, 200) << rated.body;
  EXPECT_EQ(Str(rated.Json()["feedback"]["comment"]), "thanks, reach me at [IP]");

  EXPECT_EQ(Leaks(EveryAnswer(*s.client, "ada", id)), std::vector<std::string>{});
  // The files, while the server runs (the WAL holds the commit) and after it stopped.
  EXPECT_EQ(FileLeaks(s.server->data_dir()), std::vector<std::string>{});
  EXPECT_EQ(s.server->Stop(), 0);
  EXPECT_EQ(FileLeaks(s.server->data_dir()), std::vector<std::string>{});
  EXPECT_EQ(Leaks(DatabaseText(s.server->data_dir())), std::vector<std::string>{});
  EXPECT_EQ(Leaks(s.server->Log()), std::vector<std::string>{});
}

TEST(E2eRedact, WithoutRedactTheSameChecksFindTheValues) {
  // The control of the test above: its checks do see values that are stored in clear.
  RunningServer s;
  HttpResponse saved = s.client->Post("/api/save_interaction", PiiBody(), As("ada"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  const std::string id = Str(saved.Json()["interaction_id"]);
  EXPECT_EQ(Leaks(EveryAnswer(*s.client, "ada", id)).size(), kValues.size());
  EXPECT_EQ(s.server->Stop(), 0);
  if (TestingPostgres()) {
    EXPECT_EQ(Leaks(DatabaseText(s.server->data_dir())).size(), kValues.size());
  } else {
    EXPECT_FALSE(FileLeaks(s.server->data_dir()).empty());
  }
}

// The pseudonym of the user message's e-mail address in a fresh save.
std::string EmailPseudonym(RunningServer& s, const std::string& user) {
  HttpResponse saved = s.client->Post(
      "/api/save_interaction", SaveBody("write to Ada.Lovelace@Example.com please"), As(user));
  EXPECT_EQ(saved.status, 201) << saved.body;
  HttpResponse one =
      s.client->Get("/api/interactions/" + Str(saved.Json()["interaction_id"]), As(user));
  std::string message = Str(one.Json()["interaction"]["user_message"]);
  EXPECT_EQ(message.rfind("write to [EMAIL:", 0), 0u) << message;
  return message.substr(9, 16);
}

TEST(E2eRedact, PseudonymsAreStableAcrossRestartsWithTheKeyAndDifferWithAnother) {
  RunningServer s(Redacting({"--redact", "email,phone", "--redact-mode", "pseudonym"},
                            {{"OMNIFLOW_PSEUDONYM_KEY", "first-key-0123456789"}}));
  ASSERT_TRUE(s.started);
  const std::string first = EmailPseudonym(s, "ada");
  EXPECT_EQ(first.size(), 16u) << first;       // [EMAIL:xxxxxxxx]
  EXPECT_EQ(EmailPseudonym(s, "bob"), first);  // the same address of another user joins
  s.Restart();
  EXPECT_EQ(EmailPseudonym(s, "ada"), first);
  EXPECT_EQ(s.server->Log().find("first-key-0123456789"), std::string::npos);

  RunningServer other(Redacting({"--redact", "email", "--redact-mode", "pseudonym"},
                                {{"OMNIFLOW_PSEUDONYM_KEY", "another-key-9876543210"}}));
  ASSERT_TRUE(other.started);
  EXPECT_NE(EmailPseudonym(other, "ada"), first);
}

TEST(E2eRedact, BadSettingsStopTheServerAndImportWithStatus2) {
  std::string out;
  TempDir dir;
  EXPECT_EQ(
      ServerProcess::RunCommand(
          {"serve", "--port", "0", "--data-dir", dir.path(), "--redact", "email,ssn"}, {}, &out),
      2);
  EXPECT_NE(out.find("unknown type \"ssn\""), std::string::npos) << out;
  EXPECT_EQ(ServerProcess::RunCommand({"serve", "--port", "0", "--data-dir", dir.path(), "--redact",
                                       "all", "--redact-mode", "hash"},
                                      {}, &out),
            2);
  EXPECT_NE(out.find("mask or pseudonym"), std::string::npos) << out;
  // Pseudonyms without a key: no default key, no start.
  EXPECT_EQ(ServerProcess::RunCommand({"serve", "--port", "0", "--data-dir", dir.path(), "--redact",
                                       "all", "--redact-mode", "pseudonym"},
                                      {}, &out),
            2);
  EXPECT_NE(out.find("OMNIFLOW_PSEUDONYM_KEY"), std::string::npos) << out;
  EXPECT_EQ(ServerProcess::RunCommand({"import", "-", "--data-dir", dir.path()},
                                      {{"OMNIFLOW_REDACT", "phone,fax"}}, &out),
            2);
  EXPECT_NE(out.find("unknown type \"fax\""), std::string::npos) << out;
}

TEST(E2eRedact, ToolCallHandlerLoggingIsRedacted) {
  FakeLlm llm;
  llm.PushToolCalls(
      {{"call_1", "add_new_data",
        R"({"target_blob_name":"contacts.json","new_entry":{"name":"Ada","email":"ada.lovelace@example.com","phone":"+49 30 901820"}})"}});
  llm.PushText("Saved Ada (ada.lovelace@example.com, +49 30 901820).");
  ServerConfig config = Redacting({"--redact", "all"});
  config.env = {{"OMNIFLOW_LLM_BASE_URL", llm.base_url()}, {"OMNIFLOW_LLM_MODEL", "fake-model"}};
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  HttpResponse r = s.client->Post(
      "/api/tool_call_handler",
      R"({"message":"Save Ada: ada.lovelace@example.com, +49 30 901820","user_id":"ada"})");
  ASSERT_EQ(r.status, 200) << r.body;
  HttpResponse history;
  for (int i = 0; i < 100; ++i) {
    history = s.client->Get("/api/get_interaction_history?limit=10", As("ada"));
    if (IntAt(history.Json(), "total") >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto logged = Items(history.Json());
  ASSERT_EQ(logged.size(), 1u) << history.body;
  EXPECT_EQ(Str(logged[0]["user_message"]), "Save Ada: [EMAIL], [PHONE]");
  EXPECT_EQ(Str(logged[0]["assistant_response"]), "Saved Ada ([EMAIL], [PHONE]).");
  simdjson::dom::element entry =
      logged[0]["tool_calls"].at(0)["arguments"]["new_entry"].value_unsafe();
  EXPECT_EQ(Str(entry["email"]), "[EMAIL]");
  EXPECT_EQ(Str(entry["phone"]), "[PHONE]");
  EXPECT_EQ(Str(entry["name"]), "Ada");
  EXPECT_EQ(Leaks(history.body), std::vector<std::string>{});
  // The answer to the caller is not what is stored: it keeps the text.
  EXPECT_NE(r.body.find("ada.lovelace@example.com"), std::string::npos);
}

TEST(E2eRedact, ImportIsRedactedAndASecondImportAddsNothing) {
  TempDir files;
  const std::string file = files.path() + "/in.jsonl";
  {
    std::ofstream out(file);
    for (int i = 0; i < 3; ++i) {
      std::string body = PiiBody();
      body.insert(1, "\"user_id\":\"ada\",\"timestamp\":\"2025-12-0" + std::to_string(i + 1) +
                         "T10:00:00Z\",");
      out << body << "\n";
    }
  }
  TempDir data;
  std::string out;
  const std::vector<std::pair<std::string, std::string>> env = {{"OMNIFLOW_REDACT", "all"}};
  ASSERT_EQ(ServerProcess::RunCommand({"import", file, "--data-dir", data.path()}, env, &out), 0)
      << out;
  EXPECT_NE(out.find("imported 3 interactions"), std::string::npos) << out;
  ASSERT_EQ(ServerProcess::RunCommand({"import", file, "--data-dir", data.path()}, env, &out), 0)
      << out;
  EXPECT_NE(out.find("imported 0 interactions, 3 already present"), std::string::npos) << out;
  ASSERT_EQ(ServerProcess::RunCommand({"export", "--data-dir", data.path(), "--format", "jsonl"},
                                      {}, &out),
            0);
  EXPECT_NE(out.find("I am [EMAIL], call [PHONE]"), std::string::npos) << out;
  EXPECT_EQ(Leaks(out), std::vector<std::string>{});
  EXPECT_EQ(FileLeaks(data.path()), std::vector<std::string>{});
  EXPECT_EQ(Leaks(DatabaseText(data.path())), std::vector<std::string>{});
  DropTestStore(data.path());
}

}  // namespace
}  // namespace omniflow::testing
