// Which requests the audit log records, as the route table decides (api/audit.h), checked on
// the table itself so that a new route is covered without anyone adding it here; the actor
// names; the cursor codec; and what dispatch records for a request, through a fake store.
#include "api/audit.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"

namespace omniflow::api {
namespace {

const Route& Find(std::string_view method, std::string_view pattern) {
  for (const Route& route : Routes()) {
    if (route.method == method && route.pattern == pattern) return route;
  }
  ADD_FAILURE() << "no route " << method << " " << pattern;
  return Routes()[0];
}

TEST(AuditRule, EveryAdminRouteHasAnAuditNameAndPublicRoutesAreNeverRecorded) {
  for (const Route& route : Routes()) {
    if (route.access == Access::kAdmin) {
      EXPECT_FALSE(route.audit.empty()) << route.pattern;
    }
    if (route.access == Access::kPublic) {
      EXPECT_TRUE(route.audit.empty()) << route.pattern;
      for (int status : {200, 401, 403, 404}) {
        EXPECT_TRUE(AuditAction(route, "admin", status).empty()) << route.pattern;
      }
    }
  }
}

TEST(AuditRule, TheIssuesActionsAreRecordedWhoeverCalls) {
  const std::pair<std::pair<std::string_view, std::string_view>, std::string_view> named[] = {
      {{"GET", "/api/export"}, "export"},
      {{"DELETE", "/api/users/{user_id}"}, "erase_user"},
      {{"PUT", "/api/users/{user_id}/retention"}, "retention_set"},
      {{"DELETE", "/api/users/{user_id}/retention"}, "retention_delete"},
      {{"POST", "/api/retention/run"}, "retention_run"},
      {{"PUT", "/api/users/{user_id}/hold"}, "hold_set"},
      {{"DELETE", "/api/users/{user_id}/hold"}, "hold_release"},
      {{"POST", "/api/interactions/{interaction_id}/feedback"}, "feedback"},
      {{"GET", "/api/audit"}, "audit_read"},
  };
  for (const auto& [where, action] : named) {
    const Route& route = Find(where.first, where.second);
    for (std::string_view actor : {"admin", "user:alice", "key:export", "anonymous"}) {
      EXPECT_EQ(AuditAction(route, actor, 200), action) << where.second << " " << actor;
      EXPECT_EQ(AuditAction(route, actor, 500), action) << where.second << " " << actor;
    }
  }
}

TEST(AuditRule, OtherRoutesAreRecordedOnlyForTheAdminKeyOrARefusal) {
  for (const Route& route : Routes()) {
    if (route.access == Access::kPublic || !route.audit.empty()) continue;
    // Under its function's name, or for a route of its own kind (/metrics) its last segment.
    const std::string_view name =
        !route.function.empty() ? route.function : route.pattern.substr(route.pattern.rfind('/') + 1);
    EXPECT_FALSE(name.empty()) << route.pattern;
    EXPECT_EQ(AuditAction(route, "admin", 200), name) << route.pattern;
    EXPECT_EQ(AuditAction(route, "admin", 400), name) << route.pattern;
    for (std::string_view actor : {"user:alice", "key:save_interaction", "anonymous"}) {
      EXPECT_TRUE(AuditAction(route, actor, 201).empty()) << route.pattern << " " << actor;
      EXPECT_TRUE(AuditAction(route, actor, 400).empty()) << route.pattern << " " << actor;
      EXPECT_TRUE(AuditAction(route, actor, 503).empty()) << route.pattern << " " << actor;
      EXPECT_EQ(AuditAction(route, actor, 401), "auth_failed") << route.pattern;
      EXPECT_EQ(AuditAction(route, actor, 403), "auth_failed") << route.pattern;
    }
  }
  // The save path in particular: a user's own save is never written to the log.
  EXPECT_TRUE(AuditAction(Find("POST", "/api/save_interaction"), "user:alice", 201).empty());
}

TEST(AuditRule, ActorsNameWhatWasVerified) {
  const Route& erase = Find("DELETE", "/api/users/{user_id}");
  EXPECT_EQ(ActorOf(Identity::Kind::kAdminKey, "bob", erase), "admin");
  EXPECT_EQ(ActorOf(Identity::Kind::kToken, "alice", erase), "user:alice");
  EXPECT_EQ(ActorOf(Identity::Kind::kFunctionKey, "alice", erase), "key:erase_user");
  EXPECT_EQ(ActorOf(Identity::Kind::kOpen, "alice", erase), "anonymous");
}

TEST(AuditRule, PathsAreRoutePatterns) {
  const Route& erase = Find("DELETE", "/api/users/{user_id}");
  EXPECT_EQ(AuditPath(erase, false), "/api/users/{user_id}");
  EXPECT_EQ(AuditPath(erase, true), "/api/proxy_router/erase_user/{user_id}");
}

TEST(AuditCursor, RoundTripsAndRefusesAnythingElse) {
  for (int64_t seq : {int64_t{1}, int64_t{42}, int64_t{9'000'000'000'000'000'000}}) {
    Result<int64_t> back = DecodeAuditCursor(EncodeAuditCursor(seq));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, seq);
  }
  for (std::string_view bad : {"", "x", "czF8", "czF8MA", "czF8LTE", "czF8MXg", "djF8MQ", "!!!!"}) {
    EXPECT_EQ(DecodeAuditCursor(bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

// Records what it is asked to append.
class FakeAuditStore : public AuditStore {
 public:
  Status Append(std::span<AuditEntry> entries) override {
    for (AuditEntry& e : entries) {
      e.seq = ++seq_;
      entries_.push_back(e);
    }
    return Status::Ok();
  }
  Result<AuditPage> List(const AuditQuery&) override { return AuditPage(); }
  Result<int64_t> PurgeBefore(int64_t, bool, int) override { return int64_t{0}; }

  std::vector<AuditEntry> entries_;
  int64_t seq_ = 0;
};

class AuditDispatch : public ::testing::Test {
 protected:
  AuditDispatch() {
    AuthOptions options;
    options.admin_key = "the-admin-key-0123456789";
    options.function_keys["save_interaction"] = "the-save-key-0123456789";
    auth_ = std::make_unique<Authenticator>(options);
    context_.auth = auth_.get();
    context_.audit.writer = &writer_;
    context_.audit.store = &store_;
    RegisterRoutes(&context_, &router_);
  }

  http::Response Call(std::string_view method, std::string_view target,
                      std::vector<std::pair<std::string_view, std::string_view>> headers) {
    http::Request request;
    request.method = method;
    request.SetTarget(target);
    headers.emplace_back("Host", "localhost");
    request.headers = headers;
    request.request_id = "rid-1";
    std::optional<http::Response> answer;
    bool answered = false;
    router_.Dispatch(request, [&](http::Response r) {
      answer = std::move(r);
      answered = true;
    });
    // The audit thread answers; wait for it.
    for (int i = 0; i < 500 && !answered; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_TRUE(answered) << target;
    writer_.Stop();  // everything appended
    return answer.value_or(http::Response{});
  }

  FakeAuditStore store_;
  AuditWriter writer_{&store_};
  std::unique_ptr<Authenticator> auth_;
  ApiContext context_;
  http::Router router_;
};

TEST_F(AuditDispatch, AWrongKeyIsRecordedAsAnonymousWithTheRoutePatternAndNoQuery) {
  http::Response r = Call("DELETE", "/api/users/bob?code=leaked-secret",
                          {{"x-functions-key", "wrong-key"}, {"X-User-Id", "bob"}});
  EXPECT_EQ(r.status, 401);
  ASSERT_EQ(store_.entries_.size(), 1u);
  const AuditEntry& e = store_.entries_[0];
  EXPECT_EQ(e.actor, "anonymous");
  EXPECT_EQ(e.action, "auth_failed");
  EXPECT_EQ(e.path, "/api/users/{user_id}");
  EXPECT_EQ(e.status, 401);
  EXPECT_EQ(e.request_id, "rid-1");
  EXPECT_EQ(e.target_user, std::optional<std::string>("bob"));
}

TEST_F(AuditDispatch, AUsersOwnSaveWithItsKeyIsNotRecorded) {
  http::Response r = Call("POST", "/api/save_interaction",
                          {{"x-functions-key", "the-save-key-0123456789"},
                           {"X-User-Id", "alice"},
                           {"Content-Type", "application/json"}});
  // No writer is wired here (400 or 503); what matters is that nothing was recorded.
  EXPECT_TRUE(r.status == 400 || r.status == 503) << r.status;
  EXPECT_TRUE(store_.entries_.empty());
}

TEST_F(AuditDispatch, AnAdminRequestIsRecordedWithItsFunctionAndTarget) {
  http::Response r =
      Call("GET", "/api/stats?user_id=carol", {{"x-functions-key", "the-admin-key-0123456789"}});
  ASSERT_EQ(store_.entries_.size(), 1u);
  const AuditEntry& e = store_.entries_[0];
  EXPECT_EQ(e.actor, "admin");
  EXPECT_EQ(e.action, "stats");
  EXPECT_EQ(e.target_user, std::optional<std::string>("carol"));
  EXPECT_EQ(e.status, r.status);
  EXPECT_EQ(e.path, "/api/stats");
}

}  // namespace
}  // namespace omniflow::api
