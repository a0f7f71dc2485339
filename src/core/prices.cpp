#include "core/prices.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

namespace omniflow {

// Generated from src/core/default_prices.json (CMakeLists.txt).
extern const char kDefaultPricesJson[];

namespace {

// The most one interaction may cost, in nano-units ($1M): sums of hostile counts stay far from
// int64's limit.
constexpr int64_t kMaxCostNanos = 1'000'000'000'000'000;

bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// `model` without a dated snapshot suffix (-YYYY-MM-DD or -YYYYMMDD), or empty if it has none.
std::string_view Undated(std::string_view model) {
  if (model.size() > 11 && model[model.size() - 11] == '-' &&
      IsDate(model.substr(model.size() - 10))) {
    return model.substr(0, model.size() - 11);
  }
  if (model.size() > 9 && model[model.size() - 9] == '-' &&
      AllDigits(model.substr(model.size() - 8))) {
    return model.substr(0, model.size() - 9);
  }
  return {};
}

Status Invalid(std::string_view origin, std::string_view where, std::string_view what) {
  std::string msg(origin);
  msg += ": ";
  if (!where.empty()) msg.append(where).append(": ");
  msg += what;
  return Status::InvalidArgument(std::move(msg));
}

// A price: a number in [0, kMaxPrice].
Result<double> Price(simdjson::dom::element value, std::string_view origin,
                     const std::string& where) {
  double p = 0;
  if (value.get(p) != simdjson::SUCCESS || !std::isfinite(p) || p < 0 || p > kMaxPrice) {
    return Invalid(origin, where, "must be a number from 0 to 1000000 (per million tokens)");
  }
  return p;
}

}  // namespace

Result<PriceTable> PriceTable::Parse(std::string_view json, std::string_view origin) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return Invalid(origin, "", std::string("not valid JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::object top;
  if (root.get(top) != simdjson::SUCCESS) return Invalid(origin, "", "must be a JSON object");
  PriceTable table;
  std::string_view as_of, currency;
  if (top["as_of"].get(as_of) != simdjson::SUCCESS || !IsDate(as_of)) {
    return Invalid(origin, "as_of", "required: the date of the prices, \"YYYY-MM-DD\"");
  }
  if (top["currency"].get(currency) != simdjson::SUCCESS || currency != "USD") {
    return Invalid(origin, "currency",
                   "required, and must be \"USD\" (costs are served as cost_usd)");
  }
  table.as_of_ = std::string(as_of);
  table.currency_ = std::string(currency);
  simdjson::dom::object models;
  if (top["models"].get(models) != simdjson::SUCCESS) {
    return Invalid(origin, "models", "required: an object of model name -> prices");
  }
  for (auto [name, value] : models) {
    const std::string where = "models." + std::string(name);
    if (name.empty() || name.size() > kMaxModelNameLength) {
      return Invalid(origin, "models", "model names must be 1-128 characters");
    }
    if (table.models_.count(name)) return Invalid(origin, where, "given twice");
    simdjson::dom::object fields;
    if (value.get(fields) != simdjson::SUCCESS) {
      return Invalid(origin, where, "must be an object with input and output prices");
    }
    ModelPrice price;
    bool input = false, output = false, cached = false, reasoning = false;
    for (auto [key, p] : fields) {
      double* slot = nullptr;
      bool* seen = nullptr;
      if (key == "input") slot = &price.input, seen = &input;
      if (key == "output") slot = &price.output, seen = &output;
      if (key == "cached_input") slot = &price.cached_input, seen = &cached;
      if (key == "reasoning") slot = &price.reasoning, seen = &reasoning;
      if (slot == nullptr) {
        return Invalid(origin, where + "." + std::string(key),
                       "unknown price: allowed are input, cached_input, output, reasoning");
      }
      if (*seen) return Invalid(origin, where + "." + std::string(key), "given twice");
      Result<double> v = Price(p, origin, where + "." + std::string(key));
      if (!v.ok()) return v.status();
      *slot = *v;
      *seen = true;
    }
    if (!input || !output) return Invalid(origin, where, "input and output prices are required");
    if (!cached) price.cached_input = price.input;
    if (!reasoning) price.reasoning = price.output;
    table.models_.emplace(std::string(name), price);
  }
  return table;
}

Result<PriceTable> PriceTable::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const PriceTable& PriceTable::Default() {
  static const PriceTable table = [] {
    Result<PriceTable> parsed = Parse(kDefaultPricesJson, "src/core/default_prices.json");
    // The build embeds the file; a unit test parses it, so this cannot fail in a tested build.
    return parsed.ok() ? std::move(*parsed) : PriceTable();
  }();
  return table;
}

const ModelPrice* PriceTable::Find(std::string_view model) const {
  if (auto it = models_.find(model); it != models_.end()) return &it->second;
  std::string_view base = Undated(model);
  if (base.empty()) return nullptr;
  if (auto it = models_.find(base); it != models_.end()) return &it->second;
  return nullptr;
}

int64_t CostNanos(const TokenUsage& t, const ModelPrice& price) {
  // Per million tokens -> nano-units per token: * 1e-6 * 1e9 = * 1e3.
  const double nanos = (static_cast<double>(t.input - t.cached_input) * price.input +
                        static_cast<double>(t.cached_input) * price.cached_input +
                        static_cast<double>(t.output - t.reasoning) * price.output +
                        static_cast<double>(t.reasoning) * price.reasoning) *
                       1e3;
  if (!(nanos < static_cast<double>(kMaxCostNanos))) return kMaxCostNanos;
  return std::llround(nanos);
}

std::optional<int64_t> CostNanos(const TokenUsage& tokens, std::string_view model,
                                 const PriceTable& table) {
  const ModelPrice* price = table.Find(model);
  if (price == nullptr) return std::nullopt;
  return CostNanos(tokens, *price);
}

}  // namespace omniflow
