#include "store/data_store.h"

#include "core/json.h"

namespace omniflow {

NewEntry MakeEntry(std::string_view entry_object) {
  NewEntry entry;
  entry.entry_id = NewEntryId();
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
