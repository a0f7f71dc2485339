// A test fixture that opens a fresh Database on the engine its parameter names ("sqlite": a new
// temporary data dir; "postgres": a new database of the throwaway cluster named by
// OMNIFLOW_TEST_STORE, skipped without it outside CI), for contract suites that run identically
// on both engines (audit_contract_test.cpp, replay_contract_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/database.h"
#include "store/postgres/pg_test_db.h"

namespace omniflow {

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  static bool UnderCi() {
    const char* ci = std::getenv("CI");
    if (ci == nullptr) return false;
    const std::string value = ci;
    return !value.empty() && value != "0" && value != "false";
  }
  void SetUp() override {
    if (GetParam() == "sqlite") {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "omniflow-engine-XXXXXX").string();
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      options_.data_dir = dir_;
    } else {
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
      db_ = std::make_unique<pg::TestDatabase>(std::string(info->test_suite_name()) + "." +
                                               info->name());
      if (!db_->configured()) {
        if (UnderCi()) FAIL() << "OMNIFLOW_TEST_STORE is not set; under CI this test must run";
        GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do); under CI this fails";
      }
      ASSERT_TRUE(db_->error().empty()) << db_->error();
      options_.url = db_->url();
    }
    ASSERT_NO_FATAL_FAILURE(Open());
  }
  void TearDown() override {
    database_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // (Re)opens the store, as a restart does.
  void Open() {
    database_.reset();
    auto database = Database::Open(options_);
    ASSERT_TRUE(database.ok()) << database.status().message();
    database_ = std::move(*database);
  }

  StoreOptions options_;
  std::string dir_;
  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<Database> database_;
};

inline std::string EngineName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace omniflow
