#include "agent/tools.h"

#include <simdjson.h>

#include "core/json.h"

namespace omniflow::agent {

namespace {

ToolOutcome Error(Status::Code code, std::string_view message) {
  ToolOutcome out;
  out.code = code;
  JsonWriter w;
  w.BeginObject().Field("status", "error").Field("error", message).EndObject();
  out.result = w.Release();
  return out;
}

// A data store failure: the caller's own mistakes (not found, invalid, too large) as they are;
// otherwise the store's text (which may name the
// database) stays out of the answer, which reaches the client or the model, and goes to the log.
ToolOutcome FromStatus(const Status& s) {
  if (s.code() == Status::Code::kNotFound || s.code() == Status::Code::kInvalidArgument ||
      s.code() == Status::Code::kTooLarge) {
    return Error(s.code(), s.message());
  }
  ToolOutcome out =
      Error(IsTransient(s.code()) ? Status::Code::kUnavailable : Status::Code::kInternal,
            "the data store failed; try again");
  out.log_error = s.message();
  return out;
}

// Reads the string argument `key`; an error outcome when missing or not a string.
bool StringArg(simdjson::dom::object args, const char* key, std::string* out, ToolOutcome* error) {
  std::string_view value;
  if (args[key].get(value) != simdjson::SUCCESS) {
    *error = Error(Status::Code::kInvalidArgument,
                   std::string(key) + " is required and must be a string");
    return false;
  }
  *out = std::string(value);
  return true;
}

bool BlobArg(simdjson::dom::object args, std::string* blob, ToolOutcome* error) {
  if (!StringArg(args, "target_blob_name", blob, error)) return false;
  if (!IsValidBlobName(*blob)) {
    *error = Error(Status::Code::kInvalidArgument,
                   "target_blob_name must look like tasks.json: 1-64 letters, digits, _ or -, "
                   "then .json");
    return false;
  }
  return true;
}

ToolOutcome AddNewData(DataStore* store, const std::string& user, simdjson::dom::object args) {
  std::string blob;
  ToolOutcome error;
  if (!BlobArg(args, &blob, &error)) return error;
  simdjson::dom::object entry;
  if (args["new_entry"].get(entry) != simdjson::SUCCESS) {
    return Error(Status::Code::kInvalidArgument, "new_entry is required and must be a JSON object");
  }
  JsonWriter body;
  body.BeginObject();
  for (auto field : entry) {
    if (field.key == "entry_id") continue;  // assigned by the store
    body.Key(field.key).Element(field.value);
  }
  body.EndObject();
  Result<DataStore::Added> added = store->Add(user, blob, body.str());
  if (!added.ok()) return FromStatus(added.status());
  ToolOutcome out;
  out.ok = true;
  JsonWriter w;
  w.BeginObject()
      .Field("status", "success")
      .Field("entry_count", added->entry_count)
      .Field("entry_id", added->entry_id)
      .EndObject();
  out.result = w.Release();
  return out;
}

ToolOutcome GetData(DataStore* store, const std::string& user, simdjson::dom::object args) {
  std::string blob;
  ToolOutcome error;
  if (!BlobArg(args, &blob, &error)) return error;
  Result<std::vector<std::string>> entries = store->Get(user, blob);
  if (!entries.ok()) return FromStatus(entries.status());
  ToolOutcome out;
  out.ok = true;
  JsonWriter w;
  w.BeginObject()
      .Field("status", "success")
      .Field("target_blob_name", blob)
      .Field("entry_count", entries->size())
      .Key("entries")
      .BeginArray();
  for (const std::string& entry : *entries) w.Raw(entry);
  w.EndArray().EndObject();
  out.result = w.Release();
  return out;
}

ToolOutcome UpdateData(DataStore* store, const std::string& user, simdjson::dom::object args) {
  std::string blob, entry_id;
  ToolOutcome error;
  if (!BlobArg(args, &blob, &error) || !StringArg(args, "entry_id", &entry_id, &error)) return error;
  simdjson::dom::object updates;
  if (args["updates"].get(updates) != simdjson::SUCCESS) {
    return Error(Status::Code::kInvalidArgument, "updates is required and must be a JSON object");
  }
  Result<std::string> current = store->GetEntry(user, blob, entry_id);
  if (!current.ok()) return FromStatus(current.status());
  simdjson::dom::parser parser;
  simdjson::dom::object existing;
  if (parser.parse(*current).get(existing) != simdjson::SUCCESS) {
    return Error(Status::Code::kInternal, "stored entry is not a JSON object");
  }
  // Shallow merge: fields of `updates` replace those of the entry; entry_id never changes.
  JsonWriter merged;
  merged.BeginObject().Field("entry_id", entry_id);
  for (auto field : existing) {
    if (field.key == "entry_id" || updates[field.key].error() == simdjson::SUCCESS) continue;
    merged.Key(field.key).Element(field.value);
  }
  for (auto field : updates) {
    if (field.key == "entry_id") continue;
    merged.Key(field.key).Element(field.value);
  }
  merged.EndObject();
  if (Status s = store->Replace(user, blob, entry_id, merged.str()); !s.ok()) return FromStatus(s);
  ToolOutcome out;
  out.ok = true;
  JsonWriter w;
  w.BeginObject().Field("status", "success").RawField("entry", merged.str()).EndObject();
  out.result = w.Release();
  return out;
}

ToolOutcome DeleteData(DataStore* store, const std::string& user, simdjson::dom::object args) {
  std::string blob, entry_id;
  ToolOutcome error;
  if (!BlobArg(args, &blob, &error) || !StringArg(args, "entry_id", &entry_id, &error)) return error;
  Result<int64_t> left = store->Delete(user, blob, entry_id);
  if (!left.ok()) return FromStatus(left.status());
  ToolOutcome out;
  out.ok = true;
  JsonWriter w;
  w.BeginObject().Field("status", "success").Field("entry_count", *left).EndObject();
  out.result = w.Release();
  return out;
}

ToolOutcome ListData(DataStore* store, const std::string& user) {
  auto blobs = store->List(user);
  if (!blobs.ok()) return FromStatus(blobs.status());
  ToolOutcome out;
  out.ok = true;
  JsonWriter w;
  w.BeginObject().Field("status", "success").Key("blobs").BeginArray();
  for (const auto& [name, entry_count] : *blobs) {
    w.BeginObject().Field("name", name).Field("entry_count", entry_count).EndObject();
  }
  w.EndArray().EndObject();
  out.result = w.Release();
  return out;
}

}  // namespace

const std::string& ToolDefinitions() {
  // Written readable below, sent compact.
  static const std::string kTools = [] {
    static constexpr const char* kReadable = R"json([
{"type":"function","function":{"name":"add_new_data","description":"Add an entry to one of the user's documents (tasks.json, notes.json, events.json, ...).","parameters":{"type":"object","properties":{"target_blob_name":{"type":"string","description":"Document name, e.g. tasks.json"},"new_entry":{"type":"object","description":"The entry to add"}},"required":["target_blob_name","new_entry"]}}},
{"type":"function","function":{"name":"get_data","description":"Read all entries of one of the user's documents.","parameters":{"type":"object","properties":{"target_blob_name":{"type":"string"}},"required":["target_blob_name"]}}},
{"type":"function","function":{"name":"update_data","description":"Change fields of one entry.","parameters":{"type":"object","properties":{"target_blob_name":{"type":"string"},"entry_id":{"type":"string"},"updates":{"type":"object"}},"required":["target_blob_name","entry_id","updates"]}}},
{"type":"function","function":{"name":"delete_data","description":"Delete one entry.","parameters":{"type":"object","properties":{"target_blob_name":{"type":"string"},"entry_id":{"type":"string"}},"required":["target_blob_name","entry_id"]}}},
{"type":"function","function":{"name":"list_data","description":"List the user's documents with their entry counts.","parameters":{"type":"object","properties":{}}}}
])json";
    simdjson::dom::parser parser;
    std::string compact;
    AppendJson(&compact, parser.parse(std::string_view(kReadable)).value());
    return compact;
  }();
  return kTools;
}

ToolOutcome RunTool(DataStore* store, const std::string& user, std::string_view name,
                    std::string_view arguments_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view text = arguments_json.empty() ? std::string_view("{}") : arguments_json;
  if (text.size() > (256 << 10)) {
    return Error(Status::Code::kTooLarge, "arguments are larger than 256 KiB");
  }
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Error(Status::Code::kInvalidArgument, "arguments must be a JSON object");
  }
  simdjson::dom::object args = root.get_object().value_unsafe();
  if (name == "add_new_data") return AddNewData(store, user, args);
  if (name == "get_data") return GetData(store, user, args);
  if (name == "update_data") return UpdateData(store, user, args);
  if (name == "delete_data") return DeleteData(store, user, args);
  if (name == "list_data") return ListData(store, user);
  return Error(Status::Code::kNotFound,
               "unknown tool; the tools are add_new_data, get_data, update_data, delete_data, "
               "list_data");
}

}  // namespace omniflow::agent
