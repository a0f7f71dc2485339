#include "agent/tools.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <stdlib.h>

#include <filesystem>

#include "store/database.h"

namespace omniflow::agent {
namespace {

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-tools-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    StoreOptions options;
    options.data_dir = dir_;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  simdjson::dom::element Run(const std::string& user, std::string_view name, std::string_view args,
                             bool* ok = nullptr) {
    last_ = RunTool(&db_->data(), user, name, args);
    if (ok) *ok = last_.ok;
    return parser_.parse(last_.result).value();
  }

  std::string dir_;
  std::unique_ptr<Database> db_;
  ToolOutcome last_;
  simdjson::dom::parser parser_;
};

TEST(BlobName, AcceptsOnlyPlainJsonNames) {
  EXPECT_TRUE(IsValidBlobName("tasks.json"));
  EXPECT_TRUE(IsValidBlobName("My_notes-2.json"));
  EXPECT_TRUE(IsValidBlobName(std::string(64, 'a') + ".json"));
  for (const char* bad : {"", ".json", "tasks", "tasks.JSON", "../tasks.json", "a/b.json", "a b.json",
                          "tasks.json.bak", "tasks.json\n", "ta\0sks.json", "é.json"}) {
    EXPECT_FALSE(IsValidBlobName(bad)) << bad;
  }
  EXPECT_FALSE(IsValidBlobName(std::string(65, 'a') + ".json"));
}

TEST(ToolDefinitions, IsCompactJsonNamingEveryTool) {
  simdjson::dom::parser parser;
  simdjson::dom::array tools;
  ASSERT_EQ(parser.parse(ToolDefinitions()).get(tools), simdjson::SUCCESS);
  std::vector<std::string> names;
  for (auto tool : tools) names.emplace_back(tool["function"]["name"].get_string().value());
  EXPECT_EQ(names, (std::vector<std::string>{"add_new_data", "get_data", "update_data", "delete_data", "list_data"}));
  EXPECT_EQ(ToolDefinitions().find('\n'), std::string::npos);
}

TEST_F(ToolsTest, AddGetUpdateDeleteList) {
  bool ok = false;
  auto added = Run("u", "add_new_data", R"({"target_blob_name":"tasks.json","new_entry":{"title":"a","entry_id":"forged"}})", &ok);
  ASSERT_TRUE(ok) << last_.result;
  EXPECT_EQ(added["entry_count"].get_int64().value(), 1);
  std::string id(added["entry_id"].get_string().value());
  EXPECT_NE(id, "forged");
  Run("u", "add_new_data", R"({"target_blob_name":"tasks.json","new_entry":{"title":"b"}})", &ok);
  auto got = Run("u", "get_data", R"({"target_blob_name":"tasks.json"})", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(got["entries"].at(0)["title"].get_string().value(), "a");
  EXPECT_EQ(got["entries"].at(1)["title"].get_string().value(), "b");
  EXPECT_EQ(got["entries"].at(0)["entry_id"].get_string().value(), id);
  auto updated = Run("u", "update_data", R"({"target_blob_name":"tasks.json","entry_id":")" + id +
                                             R"(","updates":{"done":true,"entry_id":"x"}})", &ok);
  ASSERT_TRUE(ok) << last_.result;
  EXPECT_EQ(updated["entry"]["entry_id"].get_string().value(), id);
  EXPECT_EQ(updated["entry"]["title"].get_string().value(), "a");
  EXPECT_TRUE(updated["entry"]["done"].get_bool().value());
  auto listed = Run("u", "list_data", "{}", &ok);
  EXPECT_EQ(listed["blobs"].at(0)["entry_count"].get_int64().value(), 2);
  auto deleted = Run("u", "delete_data", R"({"target_blob_name":"tasks.json","entry_id":")" + id + R"("})", &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(deleted["entry_count"].get_int64().value(), 1);
}

TEST_F(ToolsTest, ErrorsAreReadableAndNeverCrossUsers) {
  bool ok = true;
  auto added = Run("owner", "add_new_data", R"({"target_blob_name":"t.json","new_entry":{"x":1}})", &ok);
  std::string id(added["entry_id"].get_string().value());
  struct Case { std::string name, args; Status::Code code; };
  std::vector<Case> cases = {
      {"update_data", R"({"target_blob_name":"t.json","entry_id":")" + id + R"(","updates":{"x":2}})", Status::Code::kNotFound},
      {"delete_data", R"({"target_blob_name":"t.json","entry_id":")" + id + R"("})", Status::Code::kNotFound},
      {"get_data", R"({"target_blob_name":"../t.json"})", Status::Code::kInvalidArgument},
      {"get_data", R"({"target_blob_name":5})", Status::Code::kInvalidArgument},
      {"get_data", "[]", Status::Code::kInvalidArgument},
      {"get_data", "{\"target_blob_name\":", Status::Code::kInvalidArgument},
      {"add_new_data", R"({"target_blob_name":"t.json","new_entry":[1]})", Status::Code::kInvalidArgument},
      {"update_data", R"({"target_blob_name":"t.json","entry_id":"E1"})", Status::Code::kInvalidArgument},
      {"format_disk", "{}", Status::Code::kNotFound},
  };
  for (const Case& c : cases) {
    auto result = Run("intruder", c.name, c.args, &ok);
    EXPECT_FALSE(ok) << c.name << " " << c.args;
    EXPECT_EQ(last_.code, c.code) << c.name << " " << c.args;
    EXPECT_EQ(result["status"].get_string().value(), "error");
    EXPECT_FALSE(result["error"].get_string().value().empty());
  }
  auto still = Run("owner", "get_data", R"({"target_blob_name":"t.json"})", &ok);
  EXPECT_EQ(still["entries"].at(0)["x"].get_int64().value(), 1);
  EXPECT_EQ(Run("intruder", "list_data", "{}", &ok)["blobs"].get_array().size(), 0u);
}

// A data store whose every call fails with `status`.
class FailingDataStore final : public DataStore {
 public:
  explicit FailingDataStore(Status status) : status_(std::move(status)) {}
  Result<Added> Add(const std::string&, const std::string&, std::string_view) override {
    return status_;
  }
  Result<std::vector<std::string>> Get(const std::string&, const std::string&) override {
    return status_;
  }
  Status Replace(const std::string&, const std::string&, const std::string&,
                 std::string_view) override {
    return status_;
  }
  Result<std::string> GetEntry(const std::string&, const std::string&,
                               const std::string&) override {
    return status_;
  }
  Result<int64_t> Delete(const std::string&, const std::string&, const std::string&) override {
    return status_;
  }
  Result<std::vector<std::pair<std::string, int64_t>>> List(const std::string&) override {
    return status_;
  }

 private:
  Status status_;
};

TEST(ToolsStoreFailure, TransientFailuresAreUnavailableOthersInternalTheTextOnlyLogged) {
  const std::pair<Status, Status::Code> cases[] = {
      {Status::Unavailable("db at 10.0.0.5 down"), Status::Code::kUnavailable},
      {Status::Aborted("deadlock detected"), Status::Code::kUnavailable},
      {Status::ResourceExhausted("disk full"), Status::Code::kUnavailable},
      {Status::DeadlineExceeded("statement timeout"), Status::Code::kUnavailable},
      {Status::AlreadyExists("duplicate key"), Status::Code::kInternal},
      {Status::Internal("bug"), Status::Code::kInternal},
      {Status::NotFound("no such blob"), Status::Code::kNotFound},
  };
  for (const auto& [status, code] : cases) {
    FailingDataStore store(status);
    ToolOutcome out = RunTool(&store, "u", "get_data", R"({"target_blob_name":"t.json"})");
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.code, code) << status.message();
    if (code != Status::Code::kNotFound) {
      EXPECT_EQ(out.result.find(status.message()), std::string::npos) << out.result;
      EXPECT_EQ(out.log_error, status.message());
    }
  }
}

}  // namespace
}  // namespace omniflow::agent
