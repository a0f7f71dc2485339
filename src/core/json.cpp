#include "core/json.h"

#include <cstdio>

namespace omniflow {

void AppendJsonString(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(esc, 6);
      }
    }
  }
  out->append(text.data() + run_start, text.size() - run_start);
  out->push_back('"');
}

std::string JsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(&out, text);
  return out;
}

void AppendJson(std::string* out, simdjson::dom::element element) {
  using simdjson::dom::element_type;
  switch (element.type()) {
    case element_type::OBJECT: {
      out->push_back('{');
      bool first = true;
      simdjson::dom::object object = element.get_object().value_unsafe();
      for (auto field : object) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, field.key);
        out->push_back(':');
        AppendJson(out, field.value);
      }
      out->push_back('}');
      return;
    }
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      simdjson::dom::array array = element.get_array().value_unsafe();
      for (auto item : array) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(out, item);
      }
      out->push_back(']');
      return;
    }
    case element_type::STRING:
      AppendJsonString(out, element.get_string().value_unsafe());
      return;
    default:
      // Numbers, booleans and null: simdjson prints them in their shortest round-trip form.
      out->append(simdjson::minify(element));
      return;
  }
}

}  // namespace omniflow
