// Pushes N saves through the real handler path (router, auth, validation, id, group-commit
// writer, SQLite store in a temporary dir) without sockets, in windows of 64 in flight (the
// ingest benchmark's connection count). Run under callgrind twice with different N: the
// difference of the instruction counts divided by the difference of N is the cost of one
// save, free of start-up. Usage: bench_save_path BODY_FILE N [DATA_DIR]
// BENCH_UNCHAINED=1 stores without hash-chain links (serve --unchained-benchmark) and
// BENCH_REDACT=TYPES redacts as `serve --redact TYPES` does: what each costs, in instructions.
// The count includes the search index's work on the saves (it catches up before the end).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>

#include "api/context.h"
#include "auth/auth.h"
#include "core/ids.h"
#include "http/router.h"
#include "redact/redactor.h"
#include "store/database.h"
#include "store/writer.h"

int main(int argc, char** argv) {
  using namespace omniflow;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s BODY_FILE N [DATA_DIR]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (body.empty()) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  const long n = std::atol(argv[2]);
  std::string dir;
  if (argc > 3) {
    dir = argv[3];
  } else {
    char tmpl[] = "/tmp/omniflow-callgrind-XXXXXX";
    if (!mkdtemp(tmpl)) return 1;
    dir = tmpl;
  }
  {
    StoreOptions options;
    options.data_dir = dir;
    if (const char* page = std::getenv("BENCH_PAGE_SIZE")) options.sqlite_page_size = std::atoi(page);
    if (std::getenv("BENCH_UNCHAINED") != nullptr) options.hash_chain = false;
    std::unique_ptr<redact::Redactor> redactor;
    if (const char* types = std::getenv("BENCH_REDACT")) {
      Result<redact::RedactOptions> redact_options = redact::ParseRedactOptions(types, "mask", nullptr);
      if (!redact_options.ok()) {
        std::fprintf(stderr, "%s\n", redact_options.status().message().c_str());
        return 2;
      }
      redactor = std::make_unique<redact::Redactor>(std::move(*redact_options));
    }
    Result<std::unique_ptr<Database>> db = Database::Open(options);
    if (!db.ok()) {
      std::fprintf(stderr, "%s\n", db.status().message().c_str());
      return 1;
    }
    InteractionStore* store = &(*db)->interactions();
    Writer writer(store, WriterOptions{});
    IdGenerator ids(Clock::Real());
    Authenticator auth(AuthOptions{});
    api::ApiContext context;
    context.store = store;
    context.writer = &writer;
    context.ids = &ids;
    context.auth = &auth;
    context.build.redactor = redactor.get();
    http::Router router;
    api::RegisterRoutes(&context, &router);

    http::Request request;
    request.method = "POST";
    request.target = "/api/save_interaction";
    request.path = request.target;
    request.headers = {{"Host", "127.0.0.1"},
                       {"Content-Type", "application/json"},
                       {"X-User-Id", "bench_user_1"}};
    request.body = body;

    const auto start = std::chrono::steady_clock::now();
    std::mutex mu;
    std::condition_variable cv;
    long pending = 0, failed = 0;
    constexpr long kWindow = 64;
    for (long done = 0; done < n;) {
      long batch = std::min(kWindow, n - done);
      {
        std::lock_guard<std::mutex> lock(mu);
        pending = batch;
      }
      for (long i = 0; i < batch; ++i) {
        router.Dispatch(request, [&](http::Response response) {
          std::lock_guard<std::mutex> lock(mu);
          if (response.status != 201) ++failed;
          if (--pending == 0) cv.notify_one();
        });
      }
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return pending == 0; });
      done += batch;
    }
    writer.Stop();
    // The search index catches up on every save before the count ends, so that its work (off
    // the save path, on its own thread) is counted whole in every run, not however much of it
    // happened to run before the exit.
    if (Status s = store->CatchUp({}); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
    std::printf("saves=%ld failed=%ld seconds=%.3f\n", n, failed,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (failed) return 1;
  }
  if (argc <= 3) std::filesystem::remove_all(dir);
  return 0;
}
