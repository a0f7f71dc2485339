// Shared helpers for end-to-end tests: a running server with a client, and request builders.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "auth/jwt.h"

#include "support/http_client.h"
#include "support/server_process.h"

namespace omniflow::testing {

// Starts a server (failing the test if it cannot) and a client bound to it.
struct RunningServer {
  explicit RunningServer(ServerConfig config = {})
      : server(std::make_unique<ServerProcess>(std::move(config))) {
    std::string error;
    started = server->Start(&error);
    EXPECT_TRUE(started) << error;
    if (started) client = std::make_unique<HttpClient>(server->port());
  }
  // Restarts on the same data dir.
  void Restart() {
    client.reset();
    EXPECT_EQ(server->Stop(), 0);
    std::string error;
    started = server->Start(&error);
    ASSERT_TRUE(started) << error;
    client = std::make_unique<HttpClient>(server->port());
  }
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<HttpClient> client;
  bool started = false;
};

inline std::string SaveBody(const std::string& message, const std::string& thread = "") {
  std::string body = "{\"user_message\":\"" + message + "\",\"assistant_response\":\"re: " +
                     message + "\"";
  if (!thread.empty()) body += ",\"thread_id\":\"" + thread + "\"";
  return body + "}";
}

inline Headers As(const std::string& user) { return {{"X-User-Id", user}}; }

// A user's HS256 token for `sub`, signed with `secret`, valid for `ttl_seconds` from now.
inline std::string SignedToken(const std::string& sub, const std::string& secret,
                               int64_t ttl_seconds = 600) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(now + ttl_seconds) + "}",
                   secret);
}

// The integer at `key`, or -1 when it is missing or not an integer.
inline int64_t IntAt(simdjson::dom::element e, const char* key) {
  int64_t v = -1;
  if (e[key].get(v) != simdjson::SUCCESS) return -1;
  return v;
}

// The string at `key`, or "<missing>" when it is missing or not a string.
inline std::string StrAt(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "<missing>";
  return std::string(v);
}

// The member `key` of `e` (null when absent).
inline simdjson::dom::element MemberAt(simdjson::dom::element e, const char* key) {
  simdjson::dom::element v;
  if (e[key].get(v) != simdjson::SUCCESS) return simdjson::dom::element();
  return v;
}

// The elements of the array at `key` (empty when it is not an array).
inline std::vector<simdjson::dom::element> Items(simdjson::dom::element e,
                                                 const char* key = "interactions") {
  std::vector<simdjson::dom::element> out;
  simdjson::dom::array array;
  if (e[key].get(array) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element item : array) out.push_back(item);
  return out;
}

}  // namespace omniflow::testing
