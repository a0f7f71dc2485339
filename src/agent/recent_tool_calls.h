// Which logged interaction asked for a tool call, remembered for the newest calls: the capture
// proxy links a tool result to the interaction that asked for it (its `requested_in`) without
// waiting for that interaction to be committed. Bounded: the oldest entries are forgotten first.
// Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/mutex.h"

namespace omniflow::agent {

class RecentToolCalls {
 public:
  explicit RecentToolCalls(size_t capacity = 65536) : capacity_(capacity) {}

  // Remembers that `interaction_id` of `user` asked for the call `tool_call_id`.
  void Remember(const std::string& user, const std::string& tool_call_id,
                const std::string& interaction_id) EXCLUDES(mu_);
  // The interaction of `user` that asked for `tool_call_id`, if it is still remembered.
  std::optional<std::string> Find(const std::string& user, const std::string& tool_call_id) const
      EXCLUDES(mu_);

 private:
  using Key = std::pair<std::string, std::string>;  // user, tool_call_id
  const size_t capacity_;
  mutable Mutex mu_;
  std::map<Key, std::string> by_call_ GUARDED_BY(mu_);
  std::deque<Key> order_ GUARDED_BY(mu_);  // oldest first
};

}  // namespace omniflow::agent
