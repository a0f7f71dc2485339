#include "core/redact_request.h"

#include <simdjson.h>

#include "core/json.h"

namespace omniflow {

namespace {

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Appends `e` with every string value redacted; returns whether anything was.
bool AppendRedacted(std::string* out, simdjson::dom::element e, const TextRedactor& redactor,
                    std::string* scratch, RedactBudget* budget) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING: {
      std::string_view text = e.get_string().value_unsafe();
      scratch->clear();
      if (redactor.Redact(text, scratch, budget)) {
        AppendJsonString(out, *scratch);
        return true;
      }
      AppendJsonString(out, text);
      return false;
    }
    case simdjson::dom::element_type::ARRAY: {
      bool changed = false;
      bool first = true;
      out->push_back('[');
      simdjson::dom::array items = e.get_array().value_unsafe();
      for (simdjson::dom::element item : items) {
        if (!first) out->push_back(',');
        first = false;
        changed |= AppendRedacted(out, item, redactor, scratch, budget);
      }
      out->push_back(']');
      return changed;
    }
    case simdjson::dom::element_type::OBJECT: {
      bool changed = false;
      bool first = true;
      out->push_back('{');
      simdjson::dom::object fields = e.get_object().value_unsafe();
      for (auto field : fields) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, field.key);
        out->push_back(':');
        changed |= AppendRedacted(out, field.value, redactor, scratch, budget);
      }
      out->push_back('}');
      return changed;
    }
    default:
      AppendJson(out, e);
      return false;
  }
}

// True when some string value of `e` has something to redact (`skip_tool_fields`: not counting
// the tool calls' tool_name and status). Writes nothing: most saves have nothing to redact, and
// are then left as they came.
bool AnyToRedact(simdjson::dom::element e, const TextRedactor& redactor, std::string* scratch,
                 RedactBudget* budget, bool skip_tool_fields = false) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      scratch->clear();
      return redactor.Redact(e.get_string().value_unsafe(), scratch, budget);
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array items = e.get_array().value_unsafe();
      for (simdjson::dom::element item : items) {
        if (AnyToRedact(item, redactor, scratch, budget, skip_tool_fields)) return true;
      }
      return false;
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object fields = e.get_object().value_unsafe();
      for (auto field : fields) {
        if (skip_tool_fields && (field.key == "tool_name" || field.key == "status")) continue;
        if (AnyToRedact(field.value, redactor, scratch, budget)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

// Redacts the canonical JSON `part` in place, keeping the tool calls' tool_name and status when
// `tool_calls`.
void RedactPart(const TextRedactor& redactor, bool tool_calls, std::string* part,
                std::string* scratch, RedactBudget* budget) {
  if (*part == "[]" || *part == "{}" || part->empty()) return;
  simdjson::dom::element root;
  if (Parser().parse(part->data(), part->size()).get(root) != simdjson::SUCCESS) return;
  if (root.is_string()) {
    // A message: redacted in one go.
    scratch->clear();
    if (redactor.Redact(root.get_string().value_unsafe(), scratch, budget)) {
      part->clear();
      AppendJsonString(part, *scratch);
    }
    return;
  }
  bool any = false;
  if (tool_calls && root.is_array()) {
    simdjson::dom::array calls = root.get_array().value_unsafe();
    for (simdjson::dom::element call : calls) {
      if ((any = AnyToRedact(call, redactor, scratch, budget, call.is_object()))) break;
    }
  } else {
    any = AnyToRedact(root, redactor, scratch, budget);
  }
  if (!any) return;
  std::string out;
  out.reserve(part->size() + 16);
  bool changed = false;
  if (tool_calls && root.is_array()) {
    bool first_call = true;
    out.push_back('[');
    simdjson::dom::array calls = root.get_array().value_unsafe();
    for (simdjson::dom::element call : calls) {
      if (!first_call) out.push_back(',');
      first_call = false;
      if (!call.is_object()) {
        changed |= AppendRedacted(&out, call, redactor, scratch, budget);
        continue;
      }
      bool first = true;
      out.push_back('{');
      simdjson::dom::object fields = call.get_object().value_unsafe();
      for (auto field : fields) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(&out, field.key);
        out.push_back(':');
        if (field.key == "tool_name" || field.key == "status") {
          AppendJson(&out, field.value);
        } else {
          changed |= AppendRedacted(&out, field.value, redactor, scratch, budget);
        }
      }
      out.push_back('}');
    }
    out.push_back(']');
  } else {
    changed = AppendRedacted(&out, root, redactor, scratch, budget);
  }
  if (changed) *part = std::move(out);
}

}  // namespace

void RedactSaveRequest(const TextRedactor& redactor, SaveRequest* request) {
  std::string scratch;
  RedactBudget budget;  // one for the whole record
  RedactPart(redactor, false, &request->user_message, &scratch, &budget);
  RedactPart(redactor, false, &request->assistant_response, &scratch, &budget);
  RedactPart(redactor, true, &request->tool_calls, &scratch, &budget);
  RedactPart(redactor, false, &request->metadata, &scratch, &budget);
}

}  // namespace omniflow
