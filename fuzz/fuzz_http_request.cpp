// libFuzzer target: the HTTP request path. The first byte of an input picks one of four worlds
// (byte % 4: '0' open mode, '1' an admin key alone, '2' function keys + admin key + JWT secret,
// '3' an admin key with functions opened by OMNIFLOW_OPEN_FUNCTIONS); the rest goes through Beast's request parser (with the server's limits) and, when it
// forms a request, through that world's real router and handlers, wired as the server wires them:
// SQLite interaction, data and analytics stores (in a temporary directory on tmpfs), the
// group-commit writer, the worker pool and the in-process proxy_router.
//
// Each world holds a victim: an interaction (with a thread and feedback), and a data document,
// all stamped with the victim's user id and a secret marker. Invariants: every answer is a
// complete response; an answer to a request that does not present the admin key carries neither
// the victim's user id nor the marker (at any depth of its JSON, and anywhere in its text); and
// such a request leaves the victim's data as it was.
#include <simdjson.h>
#include <unistd.h>

#include <array>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "agent/worker_pool.h"
#include "api/context.h"
#include "auth/auth.h"
#include "core/ids.h"
#include "core/query.h"
#include "core/validate.h"
#include "store/database.h"
#include "store/writer.h"

namespace {

using namespace omniflow;

// The credentials of the guarded worlds. They are in the seed corpus and the dictionary: the
// fuzzer should use them. The JWT secret is not; the corpus holds tokens minted with it for
// "alice" (fuzz/corpus/http_request/*token*), and never one for the victim.
constexpr char kAdminKey[] = "fuzz-admin-key";
constexpr char kSaveKey[] = "fuzz-save-key";
constexpr char kHistoryKey[] = "fuzz-history-key";
constexpr char kJwtSecret[] = "fuzz-jwt-secret-0123456789abcdef";

// The victim's rows. Their ids are not secrets (knowing another user's interaction id must not
// give access to it), so they are in the corpus: 2025-01-01T00:00:00.000001Z.
constexpr int64_t kVictimTs = 1735689600000001;
constexpr char kVictimThread[] = "t-victim";
constexpr char kVictimBlob[] = "notes.json";

// kOpen: no credential (the open development mode); kAdminKeyOnly: an admin key, so every
// function is closed to all but it; kKeyed: function keys, an admin key and a JWT secret;
// kOpenFunctions: an admin key with save_interaction, get_interaction_history, get_interaction
// and search opened by OMNIFLOW_OPEN_FUNCTIONS.
enum class Mode { kOpen = 0, kAdminKeyOnly = 1, kKeyed = 2, kOpenFunctions = 3 };
constexpr int kModes = 4;

// The victim's user id and secret marker: random per run, lower-case (stats lower-case the
// requests they list), and never in the corpus or the dictionary. Nothing in this file compares
// them with memcmp, so libFuzzer's comparison hooks do not teach them to the mutator; it may still
// learn them from the stores' own comparisons, and an input holding either one is not run (see
// LLVMFuzzerTestOneInput). So no request can act as the victim: open mode and function keys act
// for X-User-Id, which would have to hold the id, and a token must be signed with the secret.
struct Victim {
  std::string user_id = RandomId("victim", 16);
  std::string marker = RandomId("secret", 16);
};

const Victim& TheVictim() {
  static const Victim victim;
  return victim;
}

// Whether `needle` occurs in `haystack`: a rolling hash, confirmed by ConstantTimeEquals
// (OpenSSL), so that no memcmp ever sees `needle`.
bool Contains(std::string_view haystack, std::string_view needle) {
  const size_t n = needle.size();
  if (n == 0 || haystack.size() < n) return false;
  constexpr uint64_t kBase = 1000003;
  uint64_t target = 0, window = 0, top = 1;
  for (size_t i = 0; i < n; ++i) {
    target = target * kBase + static_cast<unsigned char>(needle[i]);
    window = window * kBase + static_cast<unsigned char>(haystack[i]);
    if (i > 0) top *= kBase;
  }
  for (size_t i = 0;; ++i) {
    if (window == target && ConstantTimeEquals(haystack.substr(i, n), needle)) return true;
    if (i + n >= haystack.size()) return false;
    window = (window - static_cast<unsigned char>(haystack[i]) * top) * kBase +
             static_cast<unsigned char>(haystack[i + n]);
  }
}

// Whether `text` names the victim or holds the marker.
bool MentionsVictim(std::string_view text) {
  return Contains(text, TheVictim().user_id) || Contains(text, TheVictim().marker);
}

// A fresh directory, removed when the world goes (declared first: destroyed last).
struct TempDir {
  std::string path;
  TempDir() {
    std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string pattern = base + "/omniflow-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) std::abort();
  return std::move(*r);
}

void Must(const Status& s) {
  if (!s.ok()) std::abort();
}

StoreOptions OptionsIn(const std::string& dir) {
  StoreOptions options;
  options.data_dir = dir;
  return options;
}

AuthOptions AuthFor(Mode mode) {
  AuthOptions options;
  if (mode == Mode::kOpen) return options;
  options.admin_key = kAdminKey;
  if (mode == Mode::kAdminKeyOnly) return options;
  if (mode == Mode::kOpenFunctions) {
    options.open_functions = {"save_interaction", "get_interaction_history", "get_interaction",
                              "search"};
    return options;
  }
  options.function_keys = {{"save_interaction", kSaveKey},
                           {"get_interaction_history", kHistoryKey}};
  options.jwt_secret = kJwtSecret;
  return options;
}

struct World {
  explicit World(Mode mode)
      : analytics(mode == Mode::kOpen ? nullptr : &db->analytics()),
        auth(AuthFor(mode)) {
    context.store = store;
    context.writer = &writer;
    context.ids = &ids;
    context.auth = &auth;
    context.data = data;
    // Open mode without an admin key shows every user's analytics by design: none there.
    context.analytics = analytics;
    context.assistant.workers = &workers;
    api::RegisterRoutes(&context, &router);
    PlantVictim();
    baseline = VictimState();
  }
  ~World() {
    workers.Stop();
    writer.Stop();
  }

  // The victim's interaction, stored as save_interaction stores one (BuildInteraction sets its
  // user_id), in a thread, with feedback, and a data document.
  void PlantVictim() {
    const Victim& victim = TheVictim();
    const std::string& m = victim.marker;
    SaveRequest save = Must(ParseSaveRequest(R"({"user_message":")" + m +
                                             R"( what is on my list","assistant_response":")" + m +
                                             R"( your list","thread_id":")" + kVictimThread +
                                             R"(","metadata":{"note":")" + m + R"("}})"));
    Stamp stamp{kVictimTs, FormatInteractionId(kVictimTs), FormatTimestamp(kVictimTs)};
    interaction_id = stamp.interaction_id;
    InteractionRecord row = BuildInteraction(stamp, victim.user_id, std::move(save), {});
    Must(store->Append(std::span<const InteractionRecord>(&row, 1)));
    Must(store->CatchUp([](int64_t, int64_t) {}));
    Must(data->Add(victim.user_id, kVictimBlob,
                   R"({"user_id":")" + victim.user_id + R"(","note":")" + m + R"("})"));
    if (analytics) {
      Must(analytics->SetFeedback(victim.user_id, interaction_id, Feedback{1, m, kVictimTs}));
    }
  }

  // What the victim owns, read back through the stores.
  std::string VictimState() const {
    const std::string& user = TheVictim().user_id;
    std::string state;
    Result<std::string> row = store->Get(user, interaction_id);
    state.append(row.ok() ? *row : "no row").push_back('\n');
    HistoryQuery history;
    history.user_id = user;
    history.limit = 5;
    Result<HistoryPage> page = store->History(history);
    state.append(page.ok() ? std::to_string(page->total) : "no history").push_back('\n');
    Result<std::vector<std::pair<std::string, int64_t>>> blobs = data->List(user);
    if (blobs.ok()) {
      for (const auto& [name, count] : *blobs) {
        state.append(name).append(":").append(std::to_string(count)).push_back('\n');
      }
    }
    Result<std::vector<std::string>> entries = data->Get(user, kVictimBlob);
    if (entries.ok()) {
      for (const std::string& entry : *entries) state.append(entry).push_back('\n');
    }
    if (analytics) {
      Result<std::optional<Feedback>> feedback = analytics->GetFeedback(user, interaction_id);
      if (feedback.ok() && *feedback) {
        state.append(std::to_string((*feedback)->score)).append(" ");
        state.append((*feedback)->comment).append(" ");
        state.append(std::to_string((*feedback)->updated_us));
      }
    }
    return state;
  }

  TempDir dir;
  std::unique_ptr<Database> db = Must(Database::Open(OptionsIn(dir.path)));
  InteractionStore* store = &db->interactions();
  DataStore* data = &db->data();
  AnalyticsStore* analytics;  // db's, or none (the open mode)
  Writer writer{store, WriterOptions{}};
  agent::WorkerPool workers{2, 1024};
  IdGenerator ids{Clock::Real()};
  Authenticator auth;
  api::ApiContext context;
  http::Router router;
  std::string interaction_id;
  std::string baseline;  // VictimState() after the last input allowed to change it
};

// Whether `element`, at any depth, carries the victim's data: an object whose user_id is the
// victim's, or a string (key or value) holding the marker or the victim's id.
bool CarriesVictimsData(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object;
      if (element.get(object) != simdjson::SUCCESS) return false;
      for (auto field : object) {
        if (MentionsVictim(field.key)) return true;
        std::string_view owner;
        if (field.key == "user_id" && field.value.get(owner) == simdjson::SUCCESS &&
            owner.size() == TheVictim().user_id.size() &&
            ConstantTimeEquals(owner, TheVictim().user_id)) {
          return true;
        }
        if (CarriesVictimsData(field.value)) return true;
      }
      return false;
    }
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array items;
      if (element.get(items) != simdjson::SUCCESS) return false;
      for (simdjson::dom::element item : items) {
        if (CarriesVictimsData(item)) return true;
      }
      return false;
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view text;
      return element.get(text) == simdjson::SUCCESS && MentionsVictim(text);
    }
    default:
      return false;
  }
}

// Whether the request presents the admin key, which sees and changes every user's data by
// design: as any x-functions-key header, or as any `code` query parameter (percent-decoded).
bool PresentsAdminKey(const http::Request& request, const AuthOptions& options) {
  if (!options.admin_key) return false;
  for (const auto& [name, value] : request.headers) {
    if (http::EqualsIgnoreCase(name, "x-functions-key") && value == *options.admin_key) {
      return true;
    }
  }
  std::string_view query = request.query;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.substr(0, 5) != "code=") continue;
    std::string code;
    if (PercentDecode(part.substr(5), true, &code) && code == *options.admin_key) return true;
  }
  return false;
}

// Reports a crossed user with the answer that shows it, and stops the fuzzer (the input is saved
// as a crash artifact).
[[noreturn]] void Crossed(const char* how, const http::Response& response) {
  std::fprintf(stderr, "cross-user %s (victim %s, marker %s): HTTP %d %.2000s\n", how,
               TheVictim().user_id.c_str(), TheVictim().marker.c_str(), response.status,
               response.body.c_str());
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bhttp = boost::beast::http;
  static std::array<std::unique_ptr<World>, kModes> worlds = [] {
    std::array<std::unique_ptr<World>, kModes> made;
    for (int i = 0; i < kModes; ++i) made[i] = std::make_unique<World>(static_cast<Mode>(i));
    return made;
  }();
  if (size == 0) return -1;
  World& world = *worlds[data[0] % kModes];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  // An input naming the victim could act as the victim, or plant the victim's id or marker in
  // its own user's rows, where a later answer would rightly show them: not run.
  if (MentionsVictim(input)) return -1;

  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(1 << 20);
  parser.header_limit(16 << 10);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(input.data(), input.size()), ec);
  if (ec || !parser.is_done()) return 0;
  auto& msg = parser.get();
  auto sv = [](boost::beast::string_view s) { return std::string_view(s.data(), s.size()); };
  http::Request request;
  request.method = sv(msg.method_string());
  request.SetTarget(sv(msg.target()));
  for (const auto& field : msg)
    request.headers.emplace_back(sv(field.name_string()), sv(field.value()));
  request.body = msg.body();
  std::promise<http::Response> done;
  world.router.Dispatch(request, [&done](http::Response r) { done.set_value(std::move(r)); });
  http::Response response = done.get_future().get();
  if (response.status < 100 || response.status > 599) std::abort();
  static const bool verbose = std::getenv("OMNIFLOW_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "world %d: %.*s %.*s -> %d %.300s\n", data[0] % kModes,
                 static_cast<int>(request.method.size()), request.method.data(),
                 static_cast<int>(request.path.size()), request.path.data(), response.status,
                 response.body.c_str());
  }

  if (PresentsAdminKey(request, world.auth.options())) {
    world.baseline = world.VictimState();  // the admin key may change the victim's feedback
    return 0;
  }
  // Crossed users, read: by the answer's structure at any depth, and by its text (which covers
  // answers that are not JSON, and the headers).
  static simdjson::dom::parser json;
  simdjson::dom::element root;
  if (json.parse(response.body).get(root) == simdjson::SUCCESS && CarriesVictimsData(root)) {
    Crossed("read (the answer's JSON)", response);
  }
  if (MentionsVictim(response.body)) Crossed("read (the answer's text)", response);
  for (const auto& [name, value] : response.headers) {
    if (MentionsVictim(value)) Crossed("read (a header)", response);
  }
  // Crossed users, written: the victim's rows as they were.
  const std::string state = world.VictimState();
  if (state.size() != world.baseline.size() || !ConstantTimeEquals(state, world.baseline)) {
    Crossed("write (the victim's rows changed)", response);
  }
  return 0;
}
