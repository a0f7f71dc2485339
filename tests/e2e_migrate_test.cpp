// End-to-end: `omniflow migrate` on either backend (ctest runs it against SQLite and against
// PostgreSQL): the first run applies the schema, every later run is a no-op, and a server's data
// is untouched by it.
#include <regex>

#include "support/e2e.h"

namespace omniflow::testing {
namespace {

struct Migrated {
  int code = -1;
  int applied = -1;
  int version = -1;
  std::string output;
};

Migrated Migrate(const std::string& data_dir) {
  Migrated m;
  m.code = ServerProcess::RunCommand({"migrate", "--data-dir", data_dir}, {}, &m.output);
  std::smatch match;
  if (std::regex_search(m.output, match, std::regex(R"(applied (\d+) migrations?; schema version (\d+))"))) {
    m.applied = std::stoi(match[1]);
    m.version = std::stoi(match[2]);
  }
  return m;
}

TEST(E2eMigrate, ApplyingTwiceIsANoOpAndKeepsData) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  Migrated first = Migrate(data);
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_GE(first.applied, 1) << first.output;
  EXPECT_EQ(first.applied, first.version) << first.output;
  Migrated second = Migrate(data);
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_EQ(second.applied, 0) << second.output;
  EXPECT_EQ(second.version, first.version);

  // A server on the migrated store applies nothing either, and its data survives a migrate.
  ServerConfig config;
  config.data_dir = data;
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  HttpResponse saved = s.client->Post("/api/save_interaction", SaveBody("kept", "t"), As("mig_user"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  s.client.reset();  // a kept-alive connection would hold the graceful stop
  EXPECT_EQ(s.server->Stop(), 0);
  Migrated third = Migrate(data);
  EXPECT_EQ(third.applied, 0) << third.output;
  ASSERT_TRUE(s.server->Start());
  HttpClient client(s.server->port());
  HttpResponse history = client.Get("/api/get_interaction_history?thread_id=t", As("mig_user"));
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(IntAt(history.Json(), "total"), 1);
}

TEST(E2eMigrate, UnknownStoreUrlIsRefusedWithAHint) {
  std::string out;
  EXPECT_NE(ServerProcess::RunCommand({"migrate", "--store", "mysql://x/y"}, {}, &out), 0);
  EXPECT_NE(out.find("postgresql://"), std::string::npos) << out;
}

}  // namespace
}  // namespace omniflow::testing
