#include "api/export_format.h"

#include "core/json.h"

namespace omniflow::api {

namespace {

Status Unreadable(const ScannedInteraction& row) {
  return Status::Internal("stored interaction " + row.interaction_id + " of " + row.user_id +
                          " is not readable JSON");
}

// The compact JSON text of `element`.
std::string JsonText(simdjson::dom::element element) {
  std::string text;
  AppendJson(&text, element);
  return text;
}

std::string_view StringOr(simdjson::dom::element doc, const char* key, std::string_view fallback) {
  std::string_view v;
  return doc[key].get(v) == simdjson::SUCCESS ? v : fallback;
}

}  // namespace

Result<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "jsonl") return ExportFormat::kJsonl;
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "openai") return ExportFormat::kOpenAi;
  return Status::InvalidArgument("format must be jsonl, csv or openai");
}

std::string_view ExportContentType(ExportFormat format) {
  return format == ExportFormat::kCsv ? "text/csv; charset=utf-8" : "application/x-ndjson";
}

std::string_view ExportExtension(ExportFormat format) {
  return format == ExportFormat::kCsv ? "csv" : "jsonl";
}

void AppendCsvField(std::string* out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void ExportEncoder::Begin(std::string* out) {
  if (format_ == ExportFormat::kCsv) out->append(kCsvHeader);
}

Status ExportEncoder::Add(const ScannedInteraction& row, std::string* out) {
  if (format_ == ExportFormat::kJsonl) {
    out->append(row.json);
    out->push_back('\n');
    return Status::Ok();
  }
  simdjson::dom::element doc;
  if (parser_.parse(row.json).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Unreadable(row);
  }
  return format_ == ExportFormat::kCsv ? AddCsv(row, doc, out) : AddOpenAi(row, doc, out);
}

Status ExportEncoder::AddCsv(const ScannedInteraction& row, simdjson::dom::element doc,
                             std::string* out) {
  AppendCsvField(out, row.interaction_id);
  out->push_back(',');
  AppendCsvField(out, StringOr(doc, "timestamp", ""));
  out->push_back(',');
  AppendCsvField(out, row.user_id);
  out->push_back(',');
  AppendCsvField(out, row.thread_id.value_or(""));
  out->push_back(',');
  AppendCsvField(out, StringOr(doc, "user_message", ""));
  out->push_back(',');
  AppendCsvField(out, StringOr(doc, "assistant_response", ""));
  for (const char* key : {"tool_calls", "metadata"}) {
    out->push_back(',');
    simdjson::dom::element value;
    AppendCsvField(out, doc[key].get(value) == simdjson::SUCCESS
                            ? JsonText(value)
                            : std::string(key[0] == 't' ? "[]" : "{}"));
  }
  out->push_back(',');
  if (row.feedback_score) {
    JsonWriter score;
    score.Double(*row.feedback_score);
    out->append(score.str());
  }
  out->append("\r\n");
  return Status::Ok();
}

Status ExportEncoder::AddOpenAi(const ScannedInteraction& row, simdjson::dom::element doc,
                                std::string* out) {
  if (!row.thread_id || (thread_ && *thread_ != row.user_id + '\n' + *row.thread_id)) {
    FlushThread(out);
  }
  JsonWriter w(&messages_);
  if (!messages_.empty()) messages_.push_back(',');
  w.BeginObject().Field("role", "user").Field("content", StringOr(doc, "user_message", ""));
  w.EndObject();
  simdjson::dom::array calls;
  if (doc["tool_calls"].get(calls) == simdjson::SUCCESS && calls.size() > 0) {
    // One assistant turn asking for every call, then one tool message per call, in order.
    std::vector<std::string> ids;
    w.BeginObject().Field("role", "assistant").Key("content").Null().Key("tool_calls").BeginArray();
    size_t index = 0;
    for (simdjson::dom::element call : calls) {
      std::string_view given_id;
      ids.push_back(call["id"].get(given_id) == simdjson::SUCCESS && !given_id.empty()
                        ? std::string(given_id)
                        : "call_" + row.interaction_id + "_" + std::to_string(index));
      ++index;
      simdjson::dom::element arguments;
      std::string arguments_text = "{}";
      if (call["arguments"].get(arguments) == simdjson::SUCCESS) {
        std::string_view text;
        // Arguments stored as a string were not a JSON object when saved: kept as given.
        arguments_text = arguments.get(text) == simdjson::SUCCESS ? std::string(text)
                                                                  : JsonText(arguments);
      }
      w.BeginObject()
          .Field("id", ids.back())
          .Field("type", "function")
          .Key("function")
          .BeginObject()
          .Field("name", StringOr(call, "tool_name", ""))
          .Field("arguments", arguments_text)
          .EndObject()
          .EndObject();
    }
    w.EndArray().EndObject();
    index = 0;
    for (simdjson::dom::element call : calls) {
      simdjson::dom::element result;
      w.BeginObject()
          .Field("role", "tool")
          .Field("tool_call_id", ids[index++])
          .Field("content", call["result"].get(result) == simdjson::SUCCESS ? JsonText(result)
                                                                            : std::string("null"))
          .EndObject();
    }
  }
  w.BeginObject()
      .Field("role", "assistant")
      .Field("content", StringOr(doc, "assistant_response", ""))
      .EndObject();
  if (row.thread_id) {
    thread_ = row.user_id + '\n' + *row.thread_id;
  } else {
    thread_ = std::string();  // a line of its own
    FlushThread(out);
  }
  return Status::Ok();
}

void ExportEncoder::FlushThread(std::string* out) {
  if (!thread_) return;
  out->append("{\"messages\":[");
  out->append(messages_);
  out->append("]}\n");
  messages_.clear();
  thread_.reset();
}

void ExportEncoder::Finish(std::string* out) {
  if (format_ == ExportFormat::kOpenAi) FlushThread(out);
}

}  // namespace omniflow::api
