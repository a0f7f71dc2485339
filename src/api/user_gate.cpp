#include "api/user_gate.h"

namespace omniflow::api {

std::shared_ptr<void> UserGate::TryEnter(const std::string& user) {
  {
    MutexLock lock(&mu_);
    int& count = in_flight_[user];
    if (limit_ > 0 && count >= limit_) {
      if (count == 0) in_flight_.erase(user);
      return nullptr;
    }
    ++count;
  }
  // The pass owns nothing; its deleter gives the slot back.
  return std::shared_ptr<void>(static_cast<void*>(this), [this, user](void*) { Leave(user); });
}

void UserGate::Leave(const std::string& user) {
  MutexLock lock(&mu_);
  auto it = in_flight_.find(user);
  if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
}

int UserGate::InFlight(const std::string& user) const {
  MutexLock lock(&mu_);
  auto it = in_flight_.find(user);
  return it == in_flight_.end() ? 0 : it->second;
}

}  // namespace omniflow::api
