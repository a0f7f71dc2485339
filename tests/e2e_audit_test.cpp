// The audit trail over real sockets against the real binary (issue 14), on SQLite and, in the
// pg. pass, on PostgreSQL: each audited action recorded with its actor, action, target, status,
// count and request id; refused credentials as anonymous whatever a forged token claims; a
// user's own saves never recorded; no key, token or message text in any entry; /api/audit for
// the admin key only, directly or through proxy_router and its path tricks; filters and cursor
// paging; erasure and user retention leave the log, --audit-retention-days purges it; and
// X-Request-Id on every answer, the same in the log line and the entry.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "auth/jwt.h"
#include "core/ids.h"
#include "store/database.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

constexpr char kSecret[] = "audit-jwt-secret-0123456789abcdef";
constexpr char kAdmin[] = "audit-admin-key-0123456789";
constexpr char kExportKey[] = "audit-export-key-0123456789";
constexpr char kSaveKey[] = "audit-save-key-0123456789";
constexpr int64_t kDayUs = 86'400'000'000;

std::string Token(const std::string& sub, const std::string& secret = kSecret, int ttl = 600) {
  const int64_t now = Clock::Real()->NowMicros() / 1000000;
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(now + ttl) + "}", secret);
}

Headers Admin(const std::string& request_id = "") {
  Headers h = {{"x-functions-key", kAdmin}};
  if (!request_id.empty()) h.emplace_back("X-Request-Id", request_id);
  return h;
}
Headers Bearer(const std::string& user, const std::string& request_id = "") {
  Headers h = {{"Authorization", "Bearer " + Token(user)}};
  if (!request_id.empty()) h.emplace_back("X-Request-Id", request_id);
  return h;
}

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "<missing>";
  return std::string(v);
}

ServerConfig Config(std::vector<std::string> args = {}) {
  ServerConfig config;
  config.env = {{"OMNIFLOW_JWT_SECRET", kSecret},
                {"OMNIFLOW_ADMIN_KEY", kAdmin},
                {"FUNCTION_CODE_EXPORT", kExportKey},
                {"FUNCTION_CODE_SAVE_INTERACTION", kSaveKey}};
  config.args = std::move(args);
  return config;
}

// One entry of /api/audit, as plain values.
struct Entry {
  int64_t seq = 0;
  std::string ts, actor, action, path, request_id;
  std::optional<std::string> target_user;
  int status = 0;
  std::optional<int64_t> count;
};

struct Page {
  int status = 0;
  std::string body;
  std::vector<Entry> entries;
  bool has_more = false;
  std::optional<std::string> next_cursor;
};

Page ReadAudit(HttpClient& c, const std::string& query = "limit=1000",
               const Headers& headers = Admin()) {
  HttpResponse r = c.Get("/api/audit" + (query.empty() ? std::string() : "?" + query), headers);
  Page page;
  page.status = r.status;
  page.body = r.body;
  if (r.status != 200) return page;
  simdjson::dom::element root = r.Json();
  for (simdjson::dom::element item : Items(root, "entries")) {
    Entry e;
    e.seq = IntAt(item, "seq");
    e.ts = Str(item, "ts");
    e.actor = Str(item, "actor");
    e.action = Str(item, "action");
    e.path = Str(item, "path");
    e.request_id = Str(item, "request_id");
    e.status = static_cast<int>(IntAt(item, "status"));
    std::string_view target;
    if (item["target_user"].get(target) == simdjson::SUCCESS) e.target_user = std::string(target);
    int64_t count = 0;
    if (item["count"].get(count) == simdjson::SUCCESS) e.count = count;
    page.entries.push_back(std::move(e));
  }
  bool more = false;
  EXPECT_EQ(root["has_more"].get(more), simdjson::SUCCESS) << r.body;
  page.has_more = more;
  std::string_view next;
  if (root["next_cursor"].get(next) == simdjson::SUCCESS) page.next_cursor = std::string(next);
  return page;
}

// The entry of the request with `request_id`; fails the test unless there is exactly one.
Entry ByRequestId(const Page& page, const std::string& request_id) {
  std::vector<Entry> found;
  for (const Entry& e : page.entries) {
    if (e.request_id == request_id) found.push_back(e);
  }
  EXPECT_EQ(found.size(), 1u) << request_id << " in " << page.body;
  return found.empty() ? Entry() : found[0];
}

void ExpectEntry(const Entry& e, const std::string& actor, const std::string& action,
                 std::optional<std::string> target, const std::string& path, int status,
                 std::optional<int64_t> count) {
  EXPECT_EQ(e.actor, actor) << e.request_id;
  EXPECT_EQ(e.action, action) << e.request_id;
  EXPECT_EQ(e.target_user, target) << e.request_id;
  EXPECT_EQ(e.path, path) << e.request_id;
  EXPECT_EQ(e.status, status) << e.request_id;
  EXPECT_EQ(e.count, count) << e.request_id;
}

std::string SaveAs(HttpClient& c, const std::string& user, const std::string& message) {
  HttpResponse r = c.Post("/api/save_interaction", SaveBody(message, "t-" + user), Bearer(user));
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? Str(r.Json(), "interaction_id") : "";
}

HttpResponse Send(HttpClient& c, const std::string& method, const std::string& target,
                  const Headers& headers, const std::string& body = "") {
  return c.Request(method, target, headers, body);
}

// ---- What is recorded ------------------------------------------------------------------------

TEST(AuditTrail, EachAuditedActionIsRecordedWithActorActionTargetStatusCountAndRequestId) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  const std::string alice1 = SaveAs(c, "alice", "alice one");
  SaveAs(c, "alice", "alice two");
  SaveAs(c, "alice", "alice three");
  SaveAs(c, "bob", "bob one");

  // Exports: the user's own token, the export key for a user, the admin key for everyone.
  HttpResponse r = c.Get("/api/export?format=jsonl", Bearer("alice", "rid-export-own"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-request-id"), "rid-export-own");
  r = c.Get(
      "/api/export?format=csv",
      {{"x-functions-key", kExportKey}, {"X-User-Id", "bob"}, {"X-Request-Id", "rid-export-key"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.Get("/api/export?format=jsonl", Admin("rid-export-all"));
  ASSERT_EQ(r.status, 200) << r.body;
  // Feedback by the owner.
  r = c.Post("/api/interactions/" + alice1 + "/feedback", R"({"score":1,"comment":"nice"})",
             Bearer("alice", "rid-feedback"));
  ASSERT_EQ(r.status, 200) << r.body;
  // Retention and holds with the admin key.
  r = Send(c, "PUT", "/api/users/bob/retention", Admin("rid-ret-set"), R"({"days":30})");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(c.Get("/api/users/bob/retention", Admin("rid-ret-get")).status, 200);
  ASSERT_EQ(Send(c, "DELETE", "/api/users/bob/retention", Admin("rid-ret-del")).status, 200);
  ASSERT_EQ(Send(c, "DELETE", "/api/users/bob/retention", Admin("rid-ret-del-404")).status, 404);
  ASSERT_EQ(Send(c, "PUT", "/api/users/carol/hold", Admin("rid-hold-set"), R"({"reason":"case 9"})")
                .status,
            200);
  ASSERT_EQ(c.Get("/api/holds", Admin("rid-holds")).status, 200);
  ASSERT_EQ(Send(c, "DELETE", "/api/users/carol/hold", Admin("rid-hold-del")).status, 200);
  r = c.Post("/api/retention/run", R"({"dry_run":true})", Admin("rid-run"));
  ASSERT_EQ(r.status, 200) << r.body;
  // Erasure, by the admin and by the user's own token.
  r = Send(c, "DELETE", "/api/users/bob", Admin("rid-erase-bob"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = Send(c, "DELETE", "/api/users/alice", Bearer("alice", "rid-erase-alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  // Any other request with the admin key.
  ASSERT_EQ(c.Get("/api/get_interaction_history?limit=5", {{"x-functions-key", kAdmin},
                                                           {"X-User-Id", "dave"},
                                                           {"X-Request-Id", "rid-admin-history"}})
                .status,
            200);
  ASSERT_EQ(c.Get("/api/search?q=one&user_id=dave", Admin("rid-admin-search")).status, 200);
  // Reading the log is recorded too, with the entries it returned.
  Page first = ReadAudit(c, "limit=3", Admin("rid-read-1"));
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.entries.size(), 3u);

  Page page = ReadAudit(c);
  ASSERT_EQ(page.status, 200) << page.body;
  ExpectEntry(ByRequestId(page, "rid-export-own"), "user:alice", "export", "alice", "/api/export",
              200, 3);
  ExpectEntry(ByRequestId(page, "rid-export-key"), "key:export", "export", "bob", "/api/export",
              200, 1);
  ExpectEntry(ByRequestId(page, "rid-export-all"), "admin", "export", std::nullopt, "/api/export",
              200, 4);
  ExpectEntry(ByRequestId(page, "rid-feedback"), "user:alice", "feedback", "alice",
              "/api/interactions/{interaction_id}/feedback", 200, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-ret-set"), "admin", "retention_set", "bob",
              "/api/users/{user_id}/retention", 200, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-ret-get"), "admin", "retention_get", "bob",
              "/api/users/{user_id}/retention", 200, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-ret-del"), "admin", "retention_delete", "bob",
              "/api/users/{user_id}/retention", 200, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-ret-del-404"), "admin", "retention_delete", "bob",
              "/api/users/{user_id}/retention", 404, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-hold-set"), "admin", "hold_set", "carol",
              "/api/users/{user_id}/hold", 200, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-holds"), "admin", "holds_list", std::nullopt, "/api/holds",
              200, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-hold-del"), "admin", "hold_release", "carol",
              "/api/users/{user_id}/hold", 200, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-run"), "admin", "retention_run", std::nullopt,
              "/api/retention/run", 200, 0);
  ExpectEntry(ByRequestId(page, "rid-erase-bob"), "admin", "erase_user", "bob",
              "/api/users/{user_id}", 200, 1);
  ExpectEntry(ByRequestId(page, "rid-erase-alice"), "user:alice", "erase_user", "alice",
              "/api/users/{user_id}", 200, 3);
  ExpectEntry(ByRequestId(page, "rid-admin-history"), "admin", "get_interaction_history", "dave",
              "/api/get_interaction_history", 200, std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-admin-search"), "admin", "search", "dave", "/api/search", 200,
              std::nullopt);
  ExpectEntry(ByRequestId(page, "rid-read-1"), "admin", "audit_read", std::nullopt, "/api/audit",
              200, 3);
  // Newest first, seqs decreasing, timestamps ISO 8601.
  for (size_t i = 1; i < page.entries.size(); ++i) {
    EXPECT_GT(page.entries[i - 1].seq, page.entries[i].seq);
  }
  EXPECT_EQ(page.entries.front().request_id, "rid-read-1");
  int64_t ts = 0;
  EXPECT_TRUE(ParseTimestamp(page.entries.front().ts, &ts)) << page.entries.front().ts;
  // The same request id is in the request's log line.
  EXPECT_NE(s.server->Log().find("request_id=rid-erase-bob"), std::string::npos);
}

TEST(AuditTrail, ExportThroughTheRouterIsRecordedWithTheRoutersPath) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  SaveAs(c, "alice", "one");
  SaveAs(c, "alice", "two");
  HttpResponse r = c.Get("/api/proxy_router/export?format=jsonl", Bearer("alice", "rid-proxied"));
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectEntry(ByRequestId(ReadAudit(c), "rid-proxied"), "user:alice", "export", "alice",
              "/api/proxy_router/export", 200, 2);
}

TEST(AuditTrail, FailedAuthenticationIsAnonymousEvenWithAForgedTokenSub) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  SaveAs(c, "victim", "victim's data");
  const std::string forged = Token("victim", "not-the-server-secret-0123456789");
  const std::string expired = Token("victim", kSecret, -60);
  struct Attempt {
    std::string method, target, rid;
    Headers headers;
    int status;
    std::string actor;
    std::optional<std::string> target_user;
    std::string path;
  };
  const std::vector<Attempt> attempts = {
      {"GET",
       "/api/export?format=jsonl",
       "rid-forged",
       {{"Authorization", "Bearer " + forged}},
       401,
       "anonymous",
       std::nullopt,
       "/api/export"},
      {"GET",
       "/api/get_interaction_history",
       "rid-expired",
       {{"Authorization", "Bearer " + expired}},
       401,
       "anonymous",
       std::nullopt,
       "/api/get_interaction_history"},
      {"DELETE",
       "/api/users/victim",
       "rid-forged-erase",
       {{"Authorization", "Bearer " + forged}},
       401,
       "anonymous",
       "victim",
       "/api/users/{user_id}"},
      {"GET",
       "/api/proxy_router/export",
       "rid-forged-proxy",
       {{"Authorization", "Bearer " + forged}},
       401,
       "anonymous",
       std::nullopt,
       "/api/proxy_router/export"},
      {"GET",
       "/api/holds",
       "rid-wrong-key",
       {{"x-functions-key", "guessed-admin-key"}},
       401,
       "anonymous",
       std::nullopt,
       "/api/holds"},
      {"GET", "/api/holds", "rid-nothing", {}, 401, "anonymous", std::nullopt, "/api/holds"},
      {"GET",
       "/api/export",
       "rid-key-no-user",
       {{"x-functions-key", kSaveKey}, {"X-User-Id", "victim"}},
       401,
       "anonymous",
       "victim",
       "/api/export"},
      // Verified callers refused access keep their identity.
      {"DELETE", "/api/users/victim", "rid-other-user", Bearer("mallory"), 403, "user:mallory",
       "victim", "/api/users/{user_id}"},
      {"GET", "/api/audit", "rid-user-reads-audit", Bearer("mallory"), 403, "user:mallory",
       "mallory", "/api/audit"},
      {"GET", "/api/search?q=data&user_id=victim", "rid-user-searches-other", Bearer("mallory"),
       403, "user:mallory", "mallory", "/api/search"},
      {"GET",
       "/api/get_interaction_history",
       "rid-token-header-mismatch",
       {{"Authorization", "Bearer " + Token("mallory")}, {"X-User-Id", "victim"}},
       403,
       "anonymous",
       "victim",
       "/api/get_interaction_history"},
  };
  for (const Attempt& a : attempts) {
    Headers headers = a.headers;
    headers.emplace_back("X-Request-Id", a.rid);
    HttpResponse r = c.Request(a.method, a.target, headers);
    EXPECT_EQ(r.status, a.status) << a.rid << ": " << r.body;
    EXPECT_EQ(r.Header("x-request-id"), a.rid);
  }
  Page page = ReadAudit(c);
  ASSERT_EQ(page.status, 200) << page.body;
  for (const Attempt& a : attempts) {
    ExpectEntry(ByRequestId(page, a.rid), a.actor, "auth_failed", a.target_user, a.path, a.status,
                std::nullopt);
  }
  for (const Entry& e : page.entries) {
    EXPECT_NE(e.actor, "user:victim") << "an unverified sub was trusted: " << e.request_id;
  }
}

TEST(AuditTrail, AUsersOwnSavesAndReadsAreNotRecorded) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  const std::string id = SaveAs(c, "alice", "mine");
  for (int i = 0; i < 5; ++i) SaveAs(c, "alice", "more " + std::to_string(i));
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("by key"),
                   {{"x-functions-key", kSaveKey}, {"X-User-Id", "alice"}})
                .status,
            201);
  EXPECT_EQ(c.Get("/api/get_interaction_history", Bearer("alice")).status, 200);
  EXPECT_EQ(c.Get("/api/interactions/" + id, Bearer("alice")).status, 200);
  EXPECT_EQ(c.Get("/api/search?q=mine", Bearer("alice")).status, 200);
  EXPECT_EQ(c.Get("/api/stats", Bearer("alice")).status, 200);
  EXPECT_EQ(c.Get("/api/threads", Bearer("alice")).status, 200);
  EXPECT_EQ(c.Get("/api/proxy_router/get_interaction_history", Bearer("alice")).status, 200);
  EXPECT_EQ(c.Post("/api/save_interaction", "{bad json", Bearer("alice")).status, 400);
  Page page = ReadAudit(c);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(page.entries.empty()) << page.body;
}

TEST(AuditTrail, NoKeyTokenQueryOrMessageTextInAnyEntry) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  const std::string message = "MESSAGE-TEXT-4f9a";
  const std::string comment = "COMMENT-TEXT-77c1";
  const std::string reason = "HOLD-REASON-90aa";
  const std::string alice_token = Token("alice");
  const std::string forged = Token("forged-sub-x1", "wrong-secret-0123456789abcdef");
  const std::string id = SaveAs(c, "alice", message);
  Headers alice = {{"Authorization", "Bearer " + alice_token}};
  EXPECT_EQ(c.Post("/api/interactions/" + id + "/feedback",
                   R"({"score":-1,"comment":")" + comment + "\"}", alice)
                .status,
            200);
  EXPECT_EQ(c.Get("/api/export?format=jsonl&thread_id=t-alice", alice).status, 200);
  EXPECT_EQ(
      c.Get("/api/export?format=csv&code=" + std::string(kExportKey), {{"X-User-Id", "alice"}})
          .status,
      200);
  EXPECT_EQ(c.Get("/api/holds?code=" + std::string(kAdmin)).status, 200);
  EXPECT_EQ(c.Get("/api/search?q=" + message, Admin()).status, 200);
  EXPECT_EQ(
      Send(c, "PUT", "/api/users/alice/hold", Admin(), R"({"reason":")" + reason + "\"}").status,
      200);
  EXPECT_EQ(c.Get("/api/export", {{"Authorization", "Bearer " + forged}}).status, 401);
  EXPECT_EQ(c.Get("/api/export?code=wrong-code-value-123", {{"X-User-Id", "alice"}}).status, 401);
  EXPECT_EQ(Send(c, "DELETE", "/api/users/alice/hold", Admin()).status, 200);
  EXPECT_EQ(Send(c, "DELETE", "/api/users/alice", alice).status, 200);
  Page page = ReadAudit(c);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_GE(page.entries.size(), 10u) << page.body;
  const std::string head_of = alice_token.substr(0, alice_token.find('.'));
  for (const std::string& secret :
       {std::string(kAdmin), std::string(kExportKey), std::string(kSaveKey), std::string(kSecret),
        alice_token, forged, head_of, alice_token.substr(alice_token.rfind('.') + 1), message,
        comment, reason, std::string("forged-sub-x1"), std::string("wrong-code-value-123"),
        std::string("code="), std::string("format="), std::string("?"), std::string("Bearer")}) {
    EXPECT_EQ(page.body.find(secret), std::string::npos) << "\"" << secret << "\" in " << page.body;
  }
}

// ---- Who may read it -------------------------------------------------------------------------

TEST(AuditTrail, OnlyTheAdminKeyReadsTheLogAndTheRouterNeverForwardsIt) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  ASSERT_EQ(c.Get("/api/holds", Admin("rid-marker")).status, 200);  // something to leak
  const std::vector<Headers> outsiders = {
      {},
      Bearer("alice"),
      {{"Authorization", "Bearer " + Token("admin", "wrong-secret-0123456789abcdef")}},
      {{"x-functions-key", kExportKey}, {"X-User-Id", "alice"}},
      {{"x-functions-key", kSaveKey}, {"X-User-Id", "alice"}},
      {{"x-functions-key", "wrong"}},
  };
  for (const Headers& h : outsiders) {
    HttpResponse r = c.Get("/api/audit", h);
    EXPECT_TRUE(r.status == 401 || r.status == 403) << r.status << " " << r.body;
    EXPECT_EQ(r.body.find("rid-marker"), std::string::npos);
    r = c.Get("/api/audit?code=" + std::string(kExportKey), {{"X-User-Id", "alice"}});
    EXPECT_EQ(r.status, 401) << r.body;
  }
  const std::vector<std::string> tricks = {
      "/api/proxy_router/audit",
      "/api/proxy_router/audit?limit=10",
      "/api/proxy_router/get_interaction_history/../../audit",
      "/api/proxy_router/get_interaction_history/../audit",
      "/api/proxy_router/../audit",
      "/api/proxy_router/%2e%2e/audit",
      "/api/proxy_router/%2E%2E/%61udit",
      "/api/proxy_router/..%2faudit",
      "/api/proxy_router/export/..%2F..%2Faudit",
      "/api/proxy_router/get_interaction/..%2f..%2faudit",
      "/api/%61udit",
      "/api/audit/",
      "/api/audit/..",
      "/api/./audit",
      "/api//audit",
      "//api/audit",
      "/api/audit%2f",
      "/api/x/../audit",
  };
  for (const Headers& h : outsiders) {
    for (const std::string& path : tricks) {
      HttpResponse r = c.Get(path, h);
      EXPECT_NE(r.status, 200) << path;
      EXPECT_EQ(r.body.find("rid-marker"), std::string::npos) << path << ": " << r.body;
      EXPECT_EQ(r.body.find("\"entries\""), std::string::npos) << path << ": " << r.body;
    }
  }
  // The router has no audit route even for the admin key: only the direct path serves it.
  for (const std::string& path : tricks) {
    HttpResponse r = c.Get(path, Admin());
    EXPECT_NE(r.status, 200) << path << ": " << r.body;
  }
  EXPECT_EQ(ReadAudit(c).status, 200);
}

// ---- Filters and paging ----------------------------------------------------------------------

TEST(AuditTrail, FiltersAndCursorPaging) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(c.Get("/api/holds", Admin("rid-holds-" + std::to_string(i))).status, 200);
  }
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.Get("/api/audit", Bearer("alice")).status, 403);
  ASSERT_EQ(Send(c, "PUT", "/api/users/bob/retention", Admin(), R"({"days":3})").status, 200);
  ASSERT_EQ(Send(c, "PUT", "/api/users/bob/retention", Admin(), R"({"days":4})").status, 200);
  ASSERT_EQ(Send(c, "PUT", "/api/users/carol/retention", Admin(), R"({"days":5})").status, 200);

  Page holds = ReadAudit(c, "action=holds_list");
  ASSERT_EQ(holds.entries.size(), 5u) << holds.body;
  for (const Entry& e : holds.entries) EXPECT_EQ(e.action, "holds_list");
  EXPECT_EQ(holds.entries.front().request_id, "rid-holds-4");
  Page alice = ReadAudit(c, "actor=user:alice");
  ASSERT_EQ(alice.entries.size(), 3u) << alice.body;
  for (const Entry& e : alice.entries) EXPECT_EQ(e.action, "auth_failed");
  Page bob = ReadAudit(c, "target_user=bob");
  ASSERT_EQ(bob.entries.size(), 2u) << bob.body;
  Page bob_sets = ReadAudit(c, "target_user=bob&action=retention_set&actor=admin");
  EXPECT_EQ(bob_sets.entries.size(), 2u) << bob_sets.body;
  EXPECT_TRUE(ReadAudit(c, "actor=key:export").entries.empty());

  // Time ranges: today holds everything, tomorrow and the past nothing.
  const int64_t now = Clock::Real()->NowMicros();
  const std::string today = FormatTimestamp(now - now % kDayUs).substr(0, 10);
  const std::string tomorrow = FormatTimestamp(now - now % kDayUs + kDayUs).substr(0, 10);
  EXPECT_EQ(ReadAudit(c, "action=holds_list&from=" + today).entries.size(), 5u);
  EXPECT_EQ(ReadAudit(c, "action=holds_list&from=" + today + "&to=" + tomorrow).entries.size(), 5u);
  EXPECT_TRUE(ReadAudit(c, "action=holds_list&from=" + tomorrow).entries.empty());
  EXPECT_TRUE(ReadAudit(c, "action=holds_list&to=2020-01-01").entries.empty());

  // Pages of two walk the five once, newest first, with has_more and a cursor until the end.
  std::vector<std::string> walked;
  std::string query = "action=holds_list&limit=2";
  for (int pages = 0; pages < 5; ++pages) {
    Page p = ReadAudit(c, query);
    ASSERT_EQ(p.status, 200) << p.body;
    for (const Entry& e : p.entries) walked.push_back(e.request_id);
    if (!p.has_more) {
      EXPECT_FALSE(p.next_cursor.has_value()) << p.body;
      EXPECT_EQ(pages, 2);
      break;
    }
    ASSERT_TRUE(p.next_cursor.has_value()) << p.body;
    query = "action=holds_list&limit=2&cursor=" + UrlEncode(*p.next_cursor);
  }
  EXPECT_EQ(walked, (std::vector<std::string>{"rid-holds-4", "rid-holds-3", "rid-holds-2",
                                              "rid-holds-1", "rid-holds-0"}));

  // Bad parameters are 400 naming what is wrong.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"limit=0", "limit"},
      {"limit=1001", "limit"},
      {"limit=ten", "limit"},
      {"cursor=garbage", "cursor"},
      {"cursor=djF8MQ", "cursor"},
      {"action=drop_tables", "action"},
      {"actor=root", "actor"},
      {"actor=user:bad%20id", "actor"},
      {"actor=key:nope", "actor"},
      {"target_user=bad%20id", "target_user"},
      {"from=yesterday", "from"},
      {"to=2025-13-45", "to"},
      {"from=2025-12-02&to=2025-12-01", "from"},
      {"foo=1", "foo"},
      {"limit=1&limit=2", "limit"},
  };
  for (const auto& [q, word] : bad) {
    HttpResponse r = c.Get("/api/audit?" + q, Admin());
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_NE(Str(r.Json(), "error").find(word), std::string::npos) << q << ": " << r.body;
  }
}

// ---- Erasure and retention leave the log; its own retention purges it ------------------------

// Appends entries `days_ago` old straight into the store of `data_dir` (before a server opens it).
void SeedOldEntries(const std::string& data_dir,
                    const std::vector<std::pair<std::string, int>>& entries) {
  StoreOptions options;
  options.data_dir = data_dir;
  if (TestingPostgres()) options.url = TestStoreUrl(data_dir);
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().message();
  const int64_t now = Clock::Real()->NowMicros();
  for (const auto& [rid, days_ago] : entries) {
    AuditEntry e;
    e.ts_us = now - days_ago * kDayUs;
    e.actor = "admin";
    e.action = "export";
    e.target_user = "alice";
    e.path = "/api/export";
    e.status = 200;
    e.count = 1;
    e.request_id = rid;
    ASSERT_TRUE((*db)->audit().Append({&e, 1}).ok());
  }
}

std::set<std::string> RequestIds(const Page& page) {
  std::set<std::string> ids;
  for (const Entry& e : page.entries) ids.insert(e.request_id);
  return ids;
}

TEST(AuditTrail, ErasureAndUserRetentionLeaveTheLog) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string file = dir.path() + "/old.jsonl";
  {
    std::ofstream out(file);
    const int64_t now = Clock::Real()->NowMicros();
    for (int i = 0; i < 3; ++i) {
      out << "{\"user_id\":\"alice\",\"timestamp\":\"" << FormatTimestamp(now - 100 * kDayUs - i)
          << "\",\"user_message\":\"old\",\"assistant_response\":\"ok\"}\n";
    }
  }
  std::string output;
  ASSERT_EQ(ServerProcess::RunCommand({"import", file, "--data-dir", data}, {}, &output), 0)
      << output;
  SeedOldEntries(data, {{"rid-old-100", 100}, {"rid-old-300", 300}});
  ServerConfig config = Config({"--retention-days", "30", "--audit-retention-days", "0"});
  config.data_dir = data;
  RunningServer s(config);
  HttpClient& c = *s.client;
  ASSERT_EQ(c.Get("/api/export?format=jsonl&user_id=alice", Admin("rid-export")).status, 200);
  HttpResponse r = c.Post("/api/retention/run", "", Admin("rid-run"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["purged"], "interactions"), 3) << r.body;
  EXPECT_EQ(IntAt(r.Json(), "audit_entries_purged"), 0) << r.body;
  SaveAs(c, "alice", "new");
  r = Send(c, "DELETE", "/api/users/alice", Admin("rid-erase"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["receipt"]["counts"], "interactions"), 1) << r.body;

  Page page = ReadAudit(c, "target_user=alice");
  EXPECT_EQ(RequestIds(page),
            (std::set<std::string>{"rid-old-100", "rid-old-300", "rid-export", "rid-erase"}))
      << page.body;
  ExpectEntry(ByRequestId(page, "rid-export"), "admin", "export", "alice", "/api/export", 200, 3);
  ExpectEntry(ByRequestId(ReadAudit(c), "rid-run"), "admin", "retention_run", std::nullopt,
              "/api/retention/run", 200, 3);
  s.Restart();  // and they are durable
  EXPECT_EQ(RequestIds(ReadAudit(*s.client, "target_user=alice")).size(), 4u);
}

TEST(AuditTrail, AuditRetentionDaysPurgesOnlyOlderEntries) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  SeedOldEntries(data, {{"rid-500", 500}, {"rid-401", 401}, {"rid-100", 100}, {"rid-2", 2}});
  {
    ServerConfig config = Config();  // the default: 400 days
    config.data_dir = data;
    RunningServer s(config);
    HttpClient& c = *s.client;
    HttpResponse r = c.Post("/api/retention/run", R"({"dry_run":true})", Admin());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(IntAt(r.Json(), "audit_entries_purged"), 2) << r.body;
    EXPECT_EQ(RequestIds(ReadAudit(c, "action=export")).size(), 4u);
    r = c.Post("/api/retention/run", "", Admin());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(IntAt(r.Json(), "audit_entries_purged"), 2) << r.body;
    EXPECT_EQ(RequestIds(ReadAudit(c, "action=export")),
              (std::set<std::string>{"rid-100", "rid-2"}));
  }
  // The CLI purge with its own audit retention; the environment variable works too.
  std::string output;
  ASSERT_EQ(ServerProcess::RunCommand({"purge", "--data-dir", data, "--dry-run"},
                                      {{"OMNIFLOW_AUDIT_RETENTION_DAYS", "50"}}, &output),
            0)
      << output;
  EXPECT_NE(output.find("dry run: would purge 1 audit entries (audit retention: 50 days)"),
            std::string::npos)
      << output;
  ASSERT_EQ(ServerProcess::RunCommand({"purge", "--data-dir", data, "--audit-retention-days", "50"},
                                      {}, &output),
            0)
      << output;
  EXPECT_NE(output.find("purged 1 audit entries"), std::string::npos) << output;
  ServerConfig config = Config({"--audit-retention-days", "1"});
  config.env.emplace_back("OMNIFLOW_RETENTION_INTERVAL", "1s");
  config.data_dir = data;
  RunningServer s(config);
  // The background run purges too (rid-2 is two days old).
  for (int i = 0; i < 100 && !ReadAudit(*s.client, "action=export").entries.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(ReadAudit(*s.client, "action=export").entries.empty());
}

// ---- Request ids -------------------------------------------------------------------------------

TEST(AuditRequestId, EveryAnswerCarriesTheCallersWellFormedIdOrANewOne) {
  RunningServer s(Config({"--max-body", "2048"}));
  HttpClient& c = *s.client;
  const std::string max(64, 'a');
  struct Case {
    std::string sent;
    bool kept;
  };
  for (const Case& k :
       {Case{"abc", true}, Case{"A-Z.a_z-0.9", true}, Case{max, true}, Case{max + "a", false},
        Case{"with space", false}, Case{"semi;colon", false}, Case{"slash/x", false},
        Case{"ümlaut", false}, Case{"a+b", false}}) {
    for (const std::string& target : {std::string("/healthz"), std::string("/api/holds"),
                                      std::string("/api/nowhere"), std::string("/api/audit")}) {
      HttpResponse r = c.Get(target, {{"X-Request-Id", k.sent}});
      const std::string id = r.Header("x-request-id");
      if (k.kept) {
        EXPECT_EQ(id, k.sent) << target;
      } else {
        EXPECT_NE(id, k.sent) << target;
        EXPECT_EQ(id.substr(0, 4), "req-") << target;
        EXPECT_EQ(id.size(), 20u) << target;
      }
    }
  }
  // A body too large is refused before it is read; the caller's id is still kept.
  HttpResponse big = c.Post("/api/save_interaction", std::string(4096, 'x'),
                            {{"X-Request-Id", "rid-too-big"}, {"X-User-Id", "alice"}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.Header("x-request-id"), "rid-too-big");
  // A made-up id is the one in the log line and in the audit entry.
  HttpResponse r = c.Get("/api/holds", Admin());
  const std::string made = r.Header("x-request-id");
  ASSERT_EQ(made.substr(0, 4), "req-");
  EXPECT_NE(s.server->Log().find("request_id=" + made), std::string::npos);
  ByRequestId(ReadAudit(c), made);
}

}  // namespace
}  // namespace omniflow::testing
