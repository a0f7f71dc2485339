#include "store/replay_store.h"

namespace omniflow {

Status ValidateReplayInfo(const ReplayInfo& info) {
  if (!IsValidReplayId(info.replay_id)) return Status::InvalidArgument("a replay needs a valid id");
  if (info.actor.empty()) return Status::InvalidArgument("a replay needs an actor");
  if (info.spec_json.empty()) return Status::InvalidArgument("a replay needs a spec");
  return Status::Ok();
}

Status ValidateReplayItemsQuery(const ReplayItemsQuery& query) {
  if (query.limit < 1 || query.limit > 200) {
    return Status::InvalidArgument("limit must be between 1 and 200");
  }
  return Status::Ok();
}

bool IsValidReplayId(std::string_view id) {
  if (id.size() != 27 || id.substr(0, 3) != "rp_") return false;
  for (char c : id.substr(3)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace omniflow
