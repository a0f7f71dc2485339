#include "agent/recent_tool_calls.h"

namespace omniflow::agent {

void RecentToolCalls::Remember(const std::string& user, const std::string& tool_call_id,
                               const std::string& interaction_id) {
  MutexLock lock(&mu_);
  Key key{user, tool_call_id};
  auto [it, added] = by_call_.insert_or_assign(key, interaction_id);
  if (!added) return;
  order_.push_back(std::move(key));
  while (order_.size() > capacity_) {
    by_call_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<std::string> RecentToolCalls::Find(const std::string& user,
                                                 const std::string& tool_call_id) const {
  MutexLock lock(&mu_);
  auto it = by_call_.find(Key{user, tool_call_id});
  if (it == by_call_.end()) return std::nullopt;
  return it->second;
}

}  // namespace omniflow::agent
