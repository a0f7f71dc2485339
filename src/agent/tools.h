// The data tools offered to the model, and the same operations for the HTTP data functions:
// add_new_data, get_data, update_data, delete_data and list_data over one user's documents.
// Bad arguments, unknown tools and hostile names give {"status":"error","error":...} that the
// model can read and recover from; nothing here can reach another user's data.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "store/data_store.h"

namespace omniflow::agent {

struct ToolOutcome {
  bool ok = false;
  std::string result;              // canonical JSON object: the tool's answer
  Status::Code code = Status::Code::kOk;  // for the HTTP functions: why it failed
  std::string log_error;           // the data store's own error text, for the log only
};

// The `tools` array of a chat-completions request (JSON text).
const std::string& ToolDefinitions();

// Runs tool `name` for `user` with `arguments_json` (a JSON object text, as the model sent it).
ToolOutcome RunTool(DataStore* store, const std::string& user, std::string_view name,
                    std::string_view arguments_json);

}  // namespace omniflow::agent
