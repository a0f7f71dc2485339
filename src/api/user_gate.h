// Per-user fairness for the work that holds a worker thread (LLM calls, data functions, upstream
// calls): at most `limit` requests of one user in flight, so that one user cannot starve the
// others; beyond it the caller gets 429 with Retry-After. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "core/mutex.h"

namespace omniflow::api {

class UserGate {
 public:
  // `limit` requests of one user in flight at most; 0 means no limit.
  explicit UserGate(int limit) : limit_(limit) {}

  // A pass for one more request of `user`, released when the last copy is destroyed; null when
  // the user already has `limit` in flight.
  std::shared_ptr<void> TryEnter(const std::string& user);

  int limit() const { return limit_; }
  int InFlight(const std::string& user) const;

 private:
  void Leave(const std::string& user) EXCLUDES(mu_);

  const int limit_;
  mutable Mutex mu_;
  std::unordered_map<std::string, int> in_flight_ GUARDED_BY(mu_);
};

}  // namespace omniflow::api
