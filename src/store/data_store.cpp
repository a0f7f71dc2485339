#include "store/data_store.h"

#include "core/ids.h"
#include "core/json.h"

namespace omniflow {

bool IsValidBlobName(std::string_view name) {
  constexpr std::string_view kSuffix = ".json";
  if (name.size() <= kSuffix.size() || name.size() > 64 + kSuffix.size()) return false;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  for (char c : name.substr(0, name.size() - kSuffix.size())) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

NewEntry MakeEntry(std::string_view entry_object) {
  NewEntry entry;
  entry.entry_id = RandomId("E", 6);
  JsonWriter(&entry.body).BeginObject().Field("entry_id", entry.entry_id);
  // The entry's members follow verbatim (canonical JSON: "{}" or "{...}").
  if (entry_object.size() > 2) {
    entry.body.push_back(',');
    entry.body.append(entry_object.substr(1));
  } else {
    entry.body.push_back('}');
  }
  return entry;
}

}  // namespace omniflow
