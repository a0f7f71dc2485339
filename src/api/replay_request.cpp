#include "api/replay_request.h"

#include <simdjson.h>

#include <utility>
#include <vector>

#include "api/analytics_access.h"

namespace omniflow::api {

namespace {

constexpr size_t kMaxName = 200;
constexpr size_t kMaxModel = 200;
constexpr size_t kMaxPrompt = 32 << 10;
constexpr size_t kMaxUrl = 2048;
constexpr std::string_view kFilterFields[] = {"user_id", "thread_id", "from",     "to",
                                              "tool",    "status",    "feedback", "q"};

Status Bad(std::string message) { return Status::InvalidArgument(std::move(message)); }

Result<std::string> Text(simdjson::dom::element value, std::string_view name, size_t max) {
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS) return Bad(std::string(name) + " must be a string");
  if (text.size() > max) {
    return Bad(std::string(name) + " must be at most " + std::to_string(max) + " bytes");
  }
  return std::string(text);
}

Result<int> Int(simdjson::dom::element value, std::string_view name, int64_t min, int64_t max) {
  int64_t n = 0;
  if (value.get(n) != simdjson::SUCCESS || n < min || n > max) {
    return Bad(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
               std::to_string(max));
  }
  return static_cast<int>(n);
}

Result<SearchQuery> Filter(simdjson::dom::element value) {
  simdjson::dom::object object;
  if (value.get(object) != simdjson::SUCCESS) {
    return Bad("filter must be an object of strings (search's parameters)");
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto field : object) {
    const std::string name(field.key.substr(0, 64));
    if (std::find(std::begin(kFilterFields), std::end(kFilterFields), field.key) ==
        std::end(kFilterFields)) {
      return Bad("unknown filter field \"" + name +
                 "\"; the fields are user_id, thread_id, from, to, tool, status, feedback, q");
    }
    Result<std::string> text = Text(field.value, "filter." + name, 1024);
    if (!text.ok()) return text.status();
    pairs.emplace_back(name, std::move(*text));
  }
  Result<QueryParams> params = QueryParams::FromPairs(std::move(pairs));
  if (!params.ok()) return params.status();
  Caller admin;
  admin.all_users = true;
  Result<SearchQuery> q = ParseSearchQuery(admin, *params);
  if (!q.ok()) return Bad("filter: " + q.status().message());
  return q;
}

bool IsHttpUrl(std::string_view url) {
  return url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://";
}

Result<replay::Candidate> CandidateOf(simdjson::dom::element value) {
  simdjson::dom::object object;
  if (value.get(object) != simdjson::SUCCESS) {
    return Bad("candidate must be an object: {\"model\", \"system_prompt\", \"base_url\"}");
  }
  replay::Candidate c;
  for (auto field : object) {
    if (field.key == "model") {
      Result<std::string> t = Text(field.value, "candidate.model", kMaxModel);
      if (!t.ok()) return t.status();
      c.model = std::move(*t);
    } else if (field.key == "system_prompt") {
      std::string_view text;
      if (field.value.get(text) != simdjson::SUCCESS) {
        return Bad("candidate.system_prompt must be a string");
      }
      if (text.size() > kMaxPrompt) {
        return Status::TooLarge("candidate.system_prompt is longer than 32 KiB");
      }
      c.system_prompt = std::string(text);
    } else if (field.key == "base_url") {
      Result<std::string> t = Text(field.value, "candidate.base_url", kMaxUrl);
      if (!t.ok()) return t.status();
      if (!IsHttpUrl(*t)) return Bad("candidate.base_url must be an http:// or https:// URL");
      c.base_url = std::move(*t);
    } else {
      return Bad("unknown candidate field \"" + std::string(field.key.substr(0, 64)) +
                 "\"; the fields are model, system_prompt and base_url");
    }
  }
  if (c.model.empty() && c.system_prompt.empty()) {
    return Bad("candidate needs a model or a system_prompt (or both)");
  }
  return c;
}

}  // namespace

Result<replay::ReplaySpec> ParseReplaySpec(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      root.get(object) != simdjson::SUCCESS) {
    return Bad("the body must be a JSON object: {\"candidate\": {\"model\": \"...\"}, ...}");
  }
  replay::ReplaySpec spec;
  bool has_candidate = false;
  for (auto field : object) {
    if (field.key == "name") {
      Result<std::string> t = Text(field.value, "name", kMaxName);
      if (!t.ok()) return t.status();
      spec.name = std::move(*t);
    } else if (field.key == "filter") {
      Result<SearchQuery> q = Filter(field.value);
      if (!q.ok()) return q.status();
      spec.filter = std::move(*q);
    } else if (field.key == "limit") {
      Result<int> n = Int(field.value, "limit", 1, 10000);
      if (!n.ok()) return n.status();
      spec.limit = *n;
    } else if (field.key == "sample") {
      std::string_view s;
      if (field.value.get(s) != simdjson::SUCCESS || (s != "newest" && s != "random")) {
        return Bad("sample must be \"newest\" or \"random\"");
      }
      spec.random = s == "random";
    } else if (field.key == "candidate") {
      Result<replay::Candidate> c = CandidateOf(field.value);
      if (!c.ok()) return c.status();
      spec.candidate = std::move(*c);
      has_candidate = true;
    } else if (field.key == "concurrency") {
      Result<int> n = Int(field.value, "concurrency", 1, 16);
      if (!n.ok()) return n.status();
      spec.concurrency = *n;
    } else {
      return Bad("unknown field \"" + std::string(field.key.substr(0, 64)) +
                 "\"; the fields are name, filter, limit, sample, candidate and concurrency");
    }
  }
  if (!has_candidate) return Bad("candidate is required: {\"model\", \"system_prompt\"}");
  return spec;
}

}  // namespace omniflow::api
