// The price table that turns token usage into a cost: loaded from `--prices FILE` (or the
// default table compiled into the binary from src/core/default_prices.json), validated at
// start-up, and applied once per interaction when it is saved (docs/cost.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/usage.h"

namespace omniflow {

// Prices of one model in the table's currency per million tokens.
struct ModelPrice {
  double input = 0;
  double cached_input = 0;  // the file's cached_input, else input
  double output = 0;
  double reasoning = 0;  // the file's reasoning, else output
};

// The most a price may be (per million tokens): a typo guard, far above any real price.
inline constexpr double kMaxPrice = 1e6;

class PriceTable {
 public:
  // Parses and validates a price file's text: {"as_of": "YYYY-MM-DD", "currency": "USD",
  // "models": {"<model>": {"input": P, "output": P, "cached_input": P, "reasoning": P}}}; input
  // and output are required, prices are numbers in [0, kMaxPrice], model names 1-128
  // characters; other top-level fields (e.g. "source") are allowed and ignored, other fields of
  // a model are not. Errors name `origin` and what is wrong ("prices.json: models.gpt-4o: input
  // must be a number >= 0").
  static Result<PriceTable> Parse(std::string_view json, std::string_view origin);
  // Reads and parses the file at `path`.
  static Result<PriceTable> Load(const std::string& path);
  // The table compiled into the binary (src/core/default_prices.json).
  static const PriceTable& Default();

  // The price of `model`: its exact name; else, when the name ends in a dated snapshot suffix
  // (-YYYY-MM-DD or -YYYYMMDD), the name without it ("gpt-4o-2024-08-06" -> "gpt-4o"); else
  // none.
  const ModelPrice* Find(std::string_view model) const;

  const std::string& as_of() const { return as_of_; }
  const std::string& currency() const { return currency_; }
  size_t size() const { return models_.size(); }

 private:
  std::string as_of_, currency_;
  std::map<std::string, ModelPrice, std::less<>> models_;
};

// Cost in nano-units of the currency (1e-9 USD), rounded to the nearest:
// (input - cached_input) * input price + cached_input * cached_input price
//   + (output - reasoning) * output price + reasoning * reasoning price, over 1e6.
// Integer nano-units keep sums and their removal exact.
int64_t CostNanos(const TokenUsage& tokens, const ModelPrice& price);

// The cost of `tokens` for `model` by `table`: nullopt when the model is not in the table.
std::optional<int64_t> CostNanos(const TokenUsage& tokens, std::string_view model,
                                 const PriceTable& table);

}  // namespace omniflow
