// libFuzzer target: the HTTP request path. Raw bytes go through Beast's request parser (with the
// server's limits) and, when they form a request, through the real router and handlers, wired as
// the server wires them: the SQLite interaction and data stores (in a temporary directory on
// tmpfs), the group-commit writer, the worker pool and the in-process proxy_router. Analytics stay
// off: in open mode (no keys, as here) they show every user by design. Invariants: every answer is
// a complete response, and no request acting as one user ever sees another user's interaction
// (checked on the answer's structure, and on its text until the fuzzer learns the secret).
#include <utility>

#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <unistd.h>

#include <simdjson.h>

#include "agent/worker_pool.h"
#include "api/context.h"
#include "auth/auth.h"
#include "core/ids.h"
#include "store/data_store.h"
#include "store/interaction_store.h"
#include "store/writer.h"

namespace {

using namespace omniflow;

// A fresh directory, removed when the fuzzer exits (declared first: destroyed last).
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

StoreOptions OptionsIn(const std::string& dir) {
  StoreOptions options;
  options.data_dir = dir;
  return options;
}

struct World {
  TempDir dir;
  std::unique_ptr<InteractionStore> store = Must(InteractionStore::Open(OptionsIn(dir.path)));
  std::unique_ptr<DataStore> data = Must(DataStore::Open(OptionsIn(dir.path)));
  Writer writer{store.get(), WriterOptions{}};
  agent::WorkerPool workers{2, 1024};
  IdGenerator ids{Clock::Real()};
  Authenticator auth{AuthOptions{}};
  api::ApiContext context;
  http::Router router;
  World() {
    context.store = store.get();
    context.writer = &writer;
    context.ids = &ids;
    context.auth = &auth;
    context.data = data.get();
    context.assistant.workers = &workers;
    context.proxy.router = &router;
    api::RegisterRoutes(&context, &router);
    // Another user's data that no fuzzed request may ever see.
    InteractionRecord secret;
    secret.user_id = "victim";
    secret.interaction_id = "INT_20250101_000000_000001";
    secret.ts_us = 1735689600000001;
    secret.json = R"({"interaction_id":"INT_20250101_000000_000001","user_message":"VICTIM-SECRET"})";
    if (!store->Append(std::span<const InteractionRecord>(&secret, 1)).ok()) std::abort();
  }
  ~World() {
    workers.Stop();
    writer.Stop();
  }
};

bool IsVictims(simdjson::dom::element element) {
  std::string_view owner;
  return element.is_object() && element["user_id"].get(owner) == simdjson::SUCCESS &&
         owner == "victim";
}

bool CarriesVictimsInteraction(const std::string& body) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) return false;
  if (IsVictims(root)) return true;
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return false;
  for (auto field : object) {
    simdjson::dom::array items;
    if (field.value.get(items) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element item : items) {
      if (IsVictims(item)) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bhttp = boost::beast::http;
  static World world;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(1 << 20);
  parser.header_limit(16 << 10);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto& msg = parser.get();
  auto sv = [](boost::beast::string_view s) { return std::string_view(s.data(), s.size()); };
  http::Request request;
  request.method = sv(msg.method_string());
  request.SetTarget(sv(msg.target()));
  for (const auto& field : msg) request.headers.emplace_back(sv(field.name_string()), sv(field.value()));
  request.body = msg.body();
  std::promise<http::Response> done;
  world.router.Dispatch(request, [&done](http::Response r) { done.set_value(std::move(r)); });
  http::Response response = done.get_future().get();
  if (response.status < 100 || response.status > 599) std::abort();
  // Crossed users, by structure: an interaction the answer carries (the answer itself, or an
  // object in one of its arrays) whose server-set user_id is the victim's, given to another user.
  auto user = request.Header("x-user-id");
  const bool as_victim = user && *user == "victim";
  if (!as_victim && CarriesVictimsInteraction(response.body)) std::abort();
  // And by text, as long as no input has carried the secret yet: after that, an error quoting
  // the caller's input, or the fuzzer's own saved rows, may hold it legitimately.
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static bool secret_typed = false;
  secret_typed = secret_typed || input.find("VICTIM-SECRET") != std::string_view::npos;
  if (!as_victim && !secret_typed && response.body.find("VICTIM-SECRET") != std::string::npos) {
    std::abort();
  }
  return 0;
}
