#include "otlp/decode.h"

#include <zlib.h>

#include <simdjson.h>

#include "core/json.h"
#include "otlp_trace.pb.h"

namespace omniflow::otlp {

namespace {

using pb::AnyValue;
using pb::ExportTracePartialSuccess;
using pb::ExportTraceServiceRequest;
using pb::ExportTraceServiceResponse;
using pb::KeyValue;
using pb::ResourceSpans;
using pb::RpcStatus;
using pb::ScopeSpans;
using pb::Span;

// Attribute values nest (arrays, key-value lists); deeper than this is refused.
constexpr int kMaxValueDepth = 16;

constexpr char kHex[] = "0123456789abcdef";

std::string Hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// An id of `bytes` bytes in lower-case hex, or empty when it is not one or is all zero.
std::string IdHex(std::string_view raw, size_t bytes) {
  if (raw.size() != bytes) return {};
  bool zero = true;
  for (char c : raw) zero = zero && c == 0;
  return zero ? std::string() : Hex(raw);
}

// The same for an id given as hex text (OTLP JSON); upper-case digits are accepted.
std::string IdFromHexText(std::string_view text, size_t bytes) {
  if (text.size() != bytes * 2) return {};
  std::string out;
  bool zero = true;
  for (char c : text) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    zero = zero && c == '0';
    out.push_back(c);
  }
  return zero ? std::string() : out;
}

bool IsUserKey(std::string_view key) { return key == "user.id" || key == "enduser.id"; }

// Span.flags: bit 8 says whether the parent's remoteness is known, bit 9 that it is remote.
constexpr uint64_t kParentRemoteKnown = 0x100;
constexpr uint64_t kParentRemote = 0x200;

bool ParentRemote(uint64_t flags) {
  return (flags & (kParentRemoteKnown | kParentRemote)) == (kParentRemoteKnown | kParentRemote);
}

// ---- protobuf ----

bool WriteValue(const AnyValue& value, int depth, JsonWriter* w);

bool WriteAttributes(const google::protobuf::RepeatedPtrField<KeyValue>& attributes, int depth,
                     JsonWriter* w) {
  w->BeginObject();
  for (const KeyValue& kv : attributes) {
    w->Key(kv.key());
    if (!WriteValue(kv.value(), depth, w)) return false;
  }
  w->EndObject();
  return true;
}

bool WriteValue(const AnyValue& value, int depth, JsonWriter* w) {
  if (depth > kMaxValueDepth) return false;
  switch (value.value_case()) {
    case AnyValue::kStringValue: w->String(value.string_value()); break;
    case AnyValue::kBoolValue: w->Bool(value.bool_value()); break;
    case AnyValue::kIntValue: w->Int(value.int_value()); break;
    case AnyValue::kDoubleValue: w->Double(value.double_value()); break;
    case AnyValue::kBytesValue: w->String(Hex(value.bytes_value())); break;
    case AnyValue::kArrayValue:
      w->BeginArray();
      for (const AnyValue& item : value.array_value().values()) {
        if (!WriteValue(item, depth + 1, w)) return false;
      }
      w->EndArray();
      break;
    case AnyValue::kKvlistValue:
      if (!WriteAttributes(value.kvlist_value().values(), depth + 1, w)) return false;
      break;
    case AnyValue::VALUE_NOT_SET: w->Null(); break;
  }
  return true;
}

std::string UserOf(const google::protobuf::RepeatedPtrField<KeyValue>& attributes) {
  for (const KeyValue& kv : attributes) {
    if (IsUserKey(kv.key()) && kv.value().has_string_value()) return kv.value().string_value();
  }
  return {};
}

bool HasGenAi(const Span& span) {
  for (const KeyValue& kv : span.attributes()) {
    if (kv.key().rfind("gen_ai.", 0) == 0) return true;
  }
  for (const Span::Event& event : span.events()) {
    if (event.name().rfind("gen_ai.", 0) == 0) return true;
  }
  return false;
}

void Reject(DecodedExport* out, std::string reason) {
  if (out->rejected++ == 0) out->reject_reason = std::move(reason);
}

Result<DecodedExport> DecodeProtobuf(std::string_view body) {
  ExportTraceServiceRequest request;
  if (body.size() > static_cast<size_t>(INT32_MAX) ||
      !request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::InvalidArgument(
        "the body is not an OTLP ExportTraceServiceRequest in protobuf encoding");
  }
  DecodedExport out;
  for (const ResourceSpans& resource_spans : request.resource_spans()) {
    const std::string resource_user = UserOf(resource_spans.resource().attributes());
    for (const ScopeSpans& scope_spans : resource_spans.scope_spans()) {
      for (const Span& span : scope_spans.spans()) {
        DecodedSpan d;
        d.trace_id = IdHex(span.trace_id(), 16);
        d.span_id = IdHex(span.span_id(), 8);
        if (d.trace_id.empty() || d.span_id.empty()) {
          Reject(&out, "a span's trace_id must be 16 bytes and its span_id 8, not all zero");
          continue;
        }
        d.user = UserOf(span.attributes());
        if (d.user.empty()) d.user = resource_user;
        d.genai = HasGenAi(span);
        d.parent_span_id = IdHex(span.parent_span_id(), 8);
        d.parent_remote = !d.parent_span_id.empty() && ParentRemote(span.flags());
        JsonWriter w(&d.json);
        w.BeginObject()
            .Field("trace_id", d.trace_id)
            .Field("span_id", d.span_id)
            .Field("parent_span_id", d.parent_span_id)
            .Field("parent_remote", d.parent_remote)
            .Field("name", span.name())
            .Field("start_us", static_cast<int64_t>(span.start_time_unix_nano() / 1000))
            .Field("end_us", static_cast<int64_t>(span.end_time_unix_nano() / 1000))
            .Field("status_code", static_cast<int64_t>(span.status().code()))
            .Field("status_message", span.status().message())
            .Key("attributes");
        bool ok = WriteAttributes(span.attributes(), 0, &w);
        w.Key("events").BeginArray();
        for (const Span::Event& event : span.events()) {
          if (!ok) break;
          w.BeginObject()
              .Field("name", event.name())
              .Field("time_us", static_cast<int64_t>(event.time_unix_nano() / 1000))
              .Key("attributes");
          ok = WriteAttributes(event.attributes(), 0, &w);
          w.EndObject();
        }
        w.EndArray().EndObject();
        if (!ok) {
          Reject(&out, "a span's attribute values nest deeper than " +
                           std::to_string(kMaxValueDepth) + " levels");
          continue;
        }
        out.spans.push_back(std::move(d));
      }
    }
  }
  return out;
}

// ---- JSON (the OTLP JSON mapping) ----

using simdjson::dom::element;

// An OTLP/JSON 64-bit integer: a JSON number or a decimal string.
bool JsonUint(element e, uint64_t* out) {
  if (e.get(*out) == simdjson::SUCCESS) return true;
  int64_t i;
  if (e.get(i) == simdjson::SUCCESS && i >= 0) return *out = static_cast<uint64_t>(i), true;
  std::string_view text;
  if (e.get(text) != simdjson::SUCCESS || text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v) return false;
    v = next;
  }
  *out = v;
  return true;
}

bool JsonInt(element e, int64_t* out) {
  if (e.get(*out) == simdjson::SUCCESS) return true;
  std::string_view text;
  if (e.get(text) != simdjson::SUCCESS) return false;
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return false;
  *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool Base64Decode(std::string_view text, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const int d = Base64Digit(c);
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

bool WriteJsonAttributes(element list, int depth, JsonWriter* w);

bool WriteJsonValue(element value, int depth, JsonWriter* w) {
  if (depth > kMaxValueDepth) return false;
  simdjson::dom::object object;
  if (value.get(object) != simdjson::SUCCESS) return false;
  for (auto [key, v] : object) {
    if (key == "stringValue") {
      std::string_view s;
      if (v.get(s) != simdjson::SUCCESS) return false;
      w->String(s);
    } else if (key == "boolValue") {
      bool b;
      if (v.get(b) != simdjson::SUCCESS) return false;
      w->Bool(b);
    } else if (key == "intValue") {
      int64_t i;
      if (!JsonInt(v, &i)) return false;
      w->Int(i);
    } else if (key == "doubleValue") {
      double d;
      if (v.get(d) != simdjson::SUCCESS) return false;
      w->Double(d);
    } else if (key == "bytesValue") {
      std::string_view s;
      std::string bytes;
      if (v.get(s) != simdjson::SUCCESS || !Base64Decode(s, &bytes)) return false;
      w->String(Hex(bytes));
    } else if (key == "arrayValue") {
      w->BeginArray();
      simdjson::dom::array values;
      if (v["values"].get(values) == simdjson::SUCCESS) {
        for (element item : values) {
          if (!WriteJsonValue(item, depth + 1, w)) return false;
        }
      }
      w->EndArray();
    } else if (key == "kvlistValue") {
      element values;
      if (v["values"].get(values) != simdjson::SUCCESS) {
        w->BeginObject().EndObject();
      } else if (!WriteJsonAttributes(values, depth + 1, w)) {
        return false;
      }
    } else {
      continue;  // unknown fields are ignored
    }
    return true;
  }
  w->Null();  // an empty AnyValue
  return true;
}

bool WriteJsonAttributes(element list, int depth, JsonWriter* w) {
  simdjson::dom::array array;
  if (list.get(array) != simdjson::SUCCESS) return false;
  w->BeginObject();
  for (element kv : array) {
    std::string_view key;
    if (kv["key"].get(key) != simdjson::SUCCESS) return false;
    w->Key(key);
    element value;
    if (kv["value"].get(value) != simdjson::SUCCESS) {
      w->Null();
    } else if (!WriteJsonValue(value, depth, w)) {
      return false;
    }
  }
  w->EndObject();
  return true;
}

std::string JsonUserOf(element attributes) {
  simdjson::dom::array array;
  if (attributes.get(array) != simdjson::SUCCESS) return {};
  for (element kv : array) {
    std::string_view key, value;
    if (kv["key"].get(key) == simdjson::SUCCESS && IsUserKey(key) &&
        kv["value"]["stringValue"].get(value) == simdjson::SUCCESS) {
      return std::string(value);
    }
  }
  return {};
}

// Starts with "gen_ai.": the key of an attribute, or the name of an event.
bool JsonHasGenAi(element span) {
  simdjson::dom::array array;
  if (span["attributes"].get(array) == simdjson::SUCCESS) {
    for (element kv : array) {
      std::string_view key;
      if (kv["key"].get(key) == simdjson::SUCCESS && key.rfind("gen_ai.", 0) == 0) return true;
    }
  }
  if (span["events"].get(array) == simdjson::SUCCESS) {
    for (element event : array) {
      std::string_view name;
      if (event["name"].get(name) == simdjson::SUCCESS && name.rfind("gen_ai.", 0) == 0) return true;
    }
  }
  return false;
}

std::string_view StringField(element e, const char* key) {
  std::string_view s;
  if (e[key].get(s) != simdjson::SUCCESS) return {};
  return s;
}

uint64_t UintField(element e, const char* key, bool* ok) {
  element v;
  if (e[key].get(v) != simdjson::SUCCESS) return 0;
  uint64_t out = 0;
  if (!JsonUint(v, &out)) *ok = false;
  return out;
}

// Decodes one span of the JSON mapping into `d`; false (with `reason`) when it is invalid.
bool DecodeJsonSpan(element span, const std::string& resource_user, DecodedSpan* d,
                    std::string* reason) {
  d->trace_id = IdFromHexText(StringField(span, "traceId"), 16);
  d->span_id = IdFromHexText(StringField(span, "spanId"), 8);
  if (d->trace_id.empty() || d->span_id.empty()) {
    *reason = "a span's traceId must be 32 hex digits and its spanId 16, not all zero";
    return false;
  }
  element attributes;
  const bool has_attributes = span["attributes"].get(attributes) == simdjson::SUCCESS;
  if (has_attributes) d->user = JsonUserOf(attributes);
  if (d->user.empty()) d->user = resource_user;
  d->genai = JsonHasGenAi(span);
  bool ok = true;
  const uint64_t start = UintField(span, "startTimeUnixNano", &ok);
  const uint64_t end = UintField(span, "endTimeUnixNano", &ok);
  const uint64_t flags = UintField(span, "flags", &ok);
  d->parent_span_id = IdFromHexText(StringField(span, "parentSpanId"), 8);
  d->parent_remote = !d->parent_span_id.empty() && ParentRemote(flags);
  int64_t code = 0;
  std::string_view status_message;
  element status;
  if (span["status"].get(status) == simdjson::SUCCESS) {
    element c;
    if (status["code"].get(c) == simdjson::SUCCESS) {
      std::string_view name;
      if (c.get(name) == simdjson::SUCCESS) {
        code = name == "STATUS_CODE_OK" ? 1 : name == "STATUS_CODE_ERROR" ? 2 : 0;
      } else if (c.get(code) != simdjson::SUCCESS || code < 0 || code > 2) {
        ok = false;
      }
    }
    status_message = StringField(status, "message");
  }
  if (!ok) {
    *reason = "a span's times and flags must be unsigned integers (numbers or decimal strings) "
              "and its status code 0, 1 or 2";
    return false;
  }
  JsonWriter w(&d->json);
  w.BeginObject()
      .Field("trace_id", d->trace_id)
      .Field("span_id", d->span_id)
      .Field("parent_span_id", d->parent_span_id)
      .Field("parent_remote", d->parent_remote)
      .Field("name", StringField(span, "name"))
      .Field("start_us", static_cast<int64_t>(start / 1000))
      .Field("end_us", static_cast<int64_t>(end / 1000))
      .Field("status_code", code)
      .Field("status_message", status_message)
      .Key("attributes");
  if (has_attributes) {
    ok = WriteJsonAttributes(attributes, 0, &w);
  } else {
    w.BeginObject().EndObject();
  }
  w.Key("events").BeginArray();
  simdjson::dom::array events;
  if (ok && span["events"].get(events) == simdjson::SUCCESS) {
    for (element event : events) {
      bool time_ok = true;
      w.BeginObject()
          .Field("name", StringField(event, "name"))
          .Field("time_us", static_cast<int64_t>(UintField(event, "timeUnixNano", &time_ok) / 1000))
          .Key("attributes");
      element event_attributes;
      if (event["attributes"].get(event_attributes) == simdjson::SUCCESS) {
        ok = ok && time_ok && WriteJsonAttributes(event_attributes, 0, &w);
      } else {
        w.BeginObject().EndObject();
      }
      w.EndObject();
      if (!ok) break;
    }
  }
  w.EndArray().EndObject();
  if (!ok) {
    *reason = "a span's attributes or events are malformed (attribute values nest at most " +
              std::to_string(kMaxValueDepth) + " levels)";
  }
  return ok;
}

Result<DecodedExport> DecodeJson(std::string_view body) {
  simdjson::dom::parser parser;
  element root;
  simdjson::padded_string padded(body);
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Status::InvalidArgument("the body is not a JSON object (OTLP JSON encoding)");
  }
  DecodedExport out;
  element resource_spans;
  if (root["resourceSpans"].get(resource_spans) != simdjson::SUCCESS) return out;
  simdjson::dom::array resources;
  if (resource_spans.get(resources) != simdjson::SUCCESS) {
    return Status::InvalidArgument("resourceSpans must be an array");
  }
  for (element rs : resources) {
    element resource_attributes;
    std::string resource_user;
    if (rs["resource"]["attributes"].get(resource_attributes) == simdjson::SUCCESS) {
      resource_user = JsonUserOf(resource_attributes);
    }
    simdjson::dom::array scopes;
    if (rs["scopeSpans"].get(scopes) != simdjson::SUCCESS) continue;
    for (element scope : scopes) {
      simdjson::dom::array spans;
      if (scope["spans"].get(spans) != simdjson::SUCCESS) continue;
      for (element span : spans) {
        DecodedSpan d;
        std::string reason;
        if (!span.is_object() || !DecodeJsonSpan(span, resource_user, &d, &reason)) {
          Reject(&out, reason.empty() ? "a span must be a JSON object" : reason);
          continue;
        }
        out.spans.push_back(std::move(d));
      }
    }
  }
  return out;
}

}  // namespace

std::string LinkJson(const DecodedSpan& span) {
  JsonWriter w;
  w.BeginObject()
      .Field("trace_id", span.trace_id)
      .Field("span_id", span.span_id)
      .Field("parent_span_id", span.parent_span_id)
      .Field("parent_remote", span.parent_remote)
      .Key("attributes").BeginObject().EndObject()
      .Key("events").BeginArray().EndArray()
      .EndObject();
  return w.Release();
}

Result<DecodedExport> DecodeExport(std::string_view body, Encoding encoding) {
  return encoding == Encoding::kProtobuf ? DecodeProtobuf(body) : DecodeJson(body);
}

Result<std::string> Gunzip(std::string_view body, size_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Status::Internal("zlib would not start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  std::string out;
  char buffer[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return Status::InvalidArgument("the body is not valid gzip (Content-Encoding: gzip)");
    }
    const size_t produced = sizeof(buffer) - z.avail_out;
    if (out.size() + produced > max_bytes) {
      inflateEnd(&z);
      return Status::TooLarge("the gzip body inflates to more than " + std::to_string(max_bytes) +
                              " bytes");
    }
    out.append(buffer, produced);
    if (rc == Z_OK && produced == 0 && z.avail_in == 0) {
      inflateEnd(&z);
      return Status::InvalidArgument("the gzip body is truncated");
    }
  }
  inflateEnd(&z);
  return out;
}

std::string ExportResponse(Encoding encoding, int64_t rejected, std::string_view message) {
  const bool partial = rejected > 0 || !message.empty();
  if (encoding == Encoding::kProtobuf) {
    ExportTraceServiceResponse response;
    if (partial) {
      response.mutable_partial_success()->set_rejected_spans(rejected);
      response.mutable_partial_success()->set_error_message(std::string(message));
    }
    return response.SerializeAsString();
  }
  JsonWriter w;
  w.BeginObject();
  if (partial) {
    // int64 as a decimal string, as the OTLP JSON mapping writes it.
    w.Key("partialSuccess").BeginObject()
        .Field("rejectedSpans", std::to_string(rejected))
        .Field("errorMessage", message)
        .EndObject();
  }
  w.EndObject();
  return w.Release();
}

std::string ErrorBody(Encoding encoding, int grpc_code, std::string_view message) {
  if (encoding == Encoding::kProtobuf) {
    RpcStatus status;
    status.set_code(grpc_code);
    status.set_message(std::string(message));
    return status.SerializeAsString();
  }
  JsonWriter w;
  w.BeginObject()
      .Field("status", "error")
      .Field("error", message)
      .Field("code", static_cast<int64_t>(grpc_code))
      .Field("message", message)
      .EndObject();
  return w.Release();
}

}  // namespace omniflow::otlp
