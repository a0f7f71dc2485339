// Times redaction over real interaction text: every line of a JSON Lines file (default
// ../shared/data/interactions.jsonl shape: import lines) is parsed as a save and built into its
// stored form, without a redactor and with --redact all, a few times over; prints the cost per
// interaction and per KB of text. Not part of `make bench`; run by hand:
//   build/bench_redact FILE.jsonl
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/validate.h"
#include "redact/redactor.h"

using namespace omniflow;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.jsonl [rounds]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::ifstream in(argv[1]);
  std::vector<SaveRequest> requests;
  std::string line;
  size_t text_bytes = 0;
  while (std::getline(in, line)) {
    ImportFields fields;
    Result<SaveRequest> r = ParseSaveRequest(line, &fields);
    if (!r.ok()) continue;
    text_bytes += r->user_message.size() + r->assistant_response.size() + r->tool_calls.size() +
                  r->metadata.size();
    requests.push_back(std::move(*r));
  }
  redact::RedactOptions options;
  options.types = redact::kAllPiiTypes;
  redact::Redactor redactor(options);
  const Stamp stamp{1765458330123456, "INT_20251211_130530_123456", "2025-12-11T13:05:30.123456Z"};
  size_t changed = 0;
  auto run = [&](const TextRedactor* r) {
    BuildOptions build{r};
    size_t sink = 0;
    auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < rounds; ++k) {
      for (const SaveRequest& req : requests) {
        InteractionRecord rec = BuildInteraction(stamp, "user_1", req, build);
        sink += rec.json.size();
      }
    }
    auto ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    if (r != nullptr) changed = sink;
    return ns / rounds;
  };
  const double plain = run(nullptr);
  const double redacted = run(&redactor);
  size_t spans = 0;
  for (const SaveRequest& req : requests) {
    InteractionRecord a = BuildInteraction(stamp, "u", req, {});
    InteractionRecord b = BuildInteraction(stamp, "u", req, {&redactor});
    spans += a.json != b.json;
  }
  const double n = static_cast<double>(requests.size());
  std::printf("%zu interactions, %.1f MB of text (messages, tool calls, metadata)\n",
              requests.size(), text_bytes / 1e6);
  std::printf("build without redaction: %8.0f ns per interaction\n", plain / n);
  std::printf("build with --redact all: %8.0f ns per interaction (%.0f ns more)\n", redacted / n,
              (redacted - plain) / n);
  std::printf("redaction cost:          %8.0f ns per KB of text\n",
              (redacted - plain) / (text_bytes / 1024.0));
  std::printf("interactions changed by redaction: %zu (%zu bytes out)\n", spans, changed);
  return 0;
}
