// libFuzzer target: the HTTP request path. Raw bytes go through Beast's request parser (with the
// server's limits) and, when they form a request, through the real router and handlers over an
// in-memory store. Invariants: every answer is a complete response with a JSON body, and no
// request acting as one user ever sees another user's interaction.
#include <utility>

#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>

#include "api/context.h"
#include "auth/auth.h"
#include "core/ids.h"
#include "store/interaction_store.h"
#include "store/writer.h"

namespace {

using namespace omniflow;

// Keeps interactions in memory; enough of the contract for the handlers.
class MemoryStore final : public InteractionStore {
 public:
  Status Append(std::span<const InteractionRecord> batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : batch) rows_[r.user_id].push_back(r);
    return Status::Ok();
  }
  Result<HistoryPage> History(const HistoryQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    HistoryPage page;
    auto& rows = rows_[q.user_id];
    page.total = static_cast<int64_t>(rows.size());
    for (auto it = rows.rbegin(); it != rows.rend() && page.items.size() < static_cast<size_t>(q.limit); ++it) {
      page.items.push_back(it->json);
    }
    return page;
  }
  Result<std::string> Get(const std::string& user, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : rows_[user]) {
      if (r.interaction_id == id) return r.json;
    }
    return Status::NotFound("no such interaction");
  }
  Status CheckWritable() override { return Status::Ok(); }
  std::string Describe() const override { return "memory"; }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<InteractionRecord>> rows_;
};

struct World {
  MemoryStore store;
  Writer writer{&store, WriterOptions{}};
  IdGenerator ids{Clock::Real()};
  Authenticator auth{AuthOptions{}};
  api::ApiContext context{&store, &writer, &ids, &auth};
  http::Router router;
  World() {
    api::RegisterRoutes(&context, &router);
    // Another user's data that no fuzzed request may ever see.
    InteractionRecord secret;
    secret.user_id = "victim";
    secret.interaction_id = "INT_20250101_000000_000001";
    secret.json = R"({"user_message":"VICTIM-SECRET"})";
    (void)store.Append(std::span<const InteractionRecord>(&secret, 1));
  }
};

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
  request.target = sv(msg.target());
  size_t q = request.target.find('?');
  request.path = request.target.substr(0, q);
  request.query = q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
  for (const auto& field : msg) request.headers.emplace_back(sv(field.name_string()), sv(field.value()));
  request.body = msg.body();
  std::promise<http::Response> done;
  world.router.Dispatch(request, [&done](http::Response r) { done.set_value(std::move(r)); });
  http::Response response = done.get_future().get();
  if (response.status < 100 || response.status > 599) std::abort();
  if (response.body.find("VICTIM-SECRET") != std::string::npos) {
    auto user = request.Header("x-user-id");
    if (!user || *user != "victim") std::abort();  // crossed users
  }
  return 0;
}
