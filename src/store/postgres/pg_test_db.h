// For PostgreSQL unit tests: a fresh database on the test cluster of ctest's PostgreSQL pass
// (OMNIFLOW_TEST_STORE: a superuser URL, or file:PATH holding one), owned by the non-superuser
// role omniflow_app so that row-level security applies, dropped on destruction.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "store/postgres/pg_conn.h"

namespace omniflow::pg {

class TestDatabase {
 public:
  // `tag` distinguishes databases made by one process.
  explicit TestDatabase(const std::string& tag) {
    const char* value = std::getenv("OMNIFLOW_TEST_STORE");
    admin_url_ = value ? value : "";
    if (admin_url_.rfind("file:", 0) == 0) {
      std::ifstream in(admin_url_.substr(5));
      std::getline(in, admin_url_);
    }
    if (admin_url_.empty()) return;
    name_ = "u_" + std::to_string(::getpid()) + "_" + std::to_string(std::hash<std::string>()(tag) % 100000000);
    Result<Conn> admin = Conn::Connect(admin_url_);
    if (!admin.ok()) {
      error_ = admin.status().message();
      return;
    }
    (void)admin->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    Result<Res> made = admin->Exec("CREATE DATABASE " + name_ + " OWNER omniflow_app");
    if (!made.ok()) error_ = made.status().message();
    size_t at = admin_url_.find('@');
    size_t slash = admin_url_.find('/', at);
    url_ = "postgresql://omniflow_app@" + admin_url_.substr(at + 1, slash - at - 1) + "/" + name_;
  }
  ~TestDatabase() {
    if (name_.empty()) return;
    Result<Conn> admin = Conn::Connect(admin_url_);
    if (admin.ok()) (void)admin->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool configured() const { return !admin_url_.empty(); }
  const std::string& error() const { return error_; }
  // The application role's URL of this database.
  const std::string& url() const { return url_; }

 private:
  std::string admin_url_, name_, url_, error_;
};

}  // namespace omniflow::pg
