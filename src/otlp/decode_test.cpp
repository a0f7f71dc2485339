#include "otlp/decode.h"

#include <zlib.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "otlp_trace.pb.h"

namespace omniflow::otlp {
namespace {

using pb::AnyValue;
using pb::ExportTraceServiceRequest;
using pb::ExportTraceServiceResponse;
using pb::KeyValue;
using pb::ResourceSpans;
using pb::RpcStatus;
using pb::ScopeSpans;
using pb::Span;

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

const std::string kTrace = Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
const std::string kSpan = Bytes({0xa1, 2, 3, 4, 5, 6, 7, 8});

ExportTraceServiceRequest OneSpan() {
  ExportTraceServiceRequest request;
  ResourceSpans* rs = request.add_resource_spans();
  KeyValue* user = rs->mutable_resource()->add_attributes();
  user->set_key("user.id");
  user->mutable_value()->set_string_value("alice");
  Span* span = rs->add_scope_spans()->add_spans();
  span->set_trace_id(kTrace);
  span->set_span_id(kSpan);
  span->set_name("chat gpt-4o");
  span->set_start_time_unix_nano(1764547200123456789ull);
  span->set_end_time_unix_nano(1764547201000000000ull);
  span->mutable_status()->set_code(pb::Status::STATUS_CODE_ERROR);
  span->mutable_status()->set_message("boom");
  KeyValue* op = span->add_attributes();
  op->set_key("gen_ai.operation.name");
  op->mutable_value()->set_string_value("chat");
  KeyValue* tokens = span->add_attributes();
  tokens->set_key("gen_ai.usage.input_tokens");
  tokens->mutable_value()->set_int_value(42);
  KeyValue* list = span->add_attributes();
  list->set_key("list");
  list->mutable_value()->mutable_array_value()->add_values()->set_bool_value(true);
  KeyValue* kv = list->mutable_value()->mutable_array_value()->add_values()
                     ->mutable_kvlist_value()->add_values();
  kv->set_key("k");
  kv->mutable_value()->set_bytes_value(Bytes({0xff, 0}));
  span->add_events()->set_name("gen_ai.choice");
  return request;
}

TEST(OtlpDecode, ProtobufSpanBecomesItsJsonForm) {
  Result<DecodedExport> out = DecodeExport(OneSpan().SerializeAsString(), Encoding::kProtobuf);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->spans.size(), 1u);
  EXPECT_EQ(out->rejected, 0);
  const DecodedSpan& d = out->spans[0];
  EXPECT_EQ(d.trace_id, "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(d.span_id, "a102030405060708");
  EXPECT_EQ(d.user, "alice");  // from the resource
  EXPECT_TRUE(d.genai);
  EXPECT_EQ(d.json,
            "{\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\",\"span_id\":\"a102030405060708\","
            "\"parent_span_id\":\"\",\"parent_remote\":false,\"name\":\"chat gpt-4o\",\"start_us\":1764547200123456,"
            "\"end_us\":1764547201000000,\"status_code\":2,\"status_message\":\"boom\","
            "\"attributes\":{\"gen_ai.operation.name\":\"chat\",\"gen_ai.usage.input_tokens\":42,"
            "\"list\":[true,{\"k\":\"ff00\"}]},\"events\":[{\"name\":\"gen_ai.choice\","
            "\"time_us\":0,\"attributes\":{}}]}");
}

TEST(OtlpDecode, JsonMappingGivesTheSameSpanAsProtobuf) {
  const std::string body = R"({"resourceSpans":[{"resource":{"attributes":[
    {"key":"user.id","value":{"stringValue":"alice"}}]},
    "scopeSpans":[{"scope":{"name":"x"},"spans":[{
      "traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"a102030405060708","parentSpanId":"",
      "name":"chat gpt-4o","kind":3,"startTimeUnixNano":"1764547200123456789",
      "endTimeUnixNano":1764547201000000000,
      "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
        {"key":"gen_ai.usage.input_tokens","value":{"intValue":"42"}},
        {"key":"list","value":{"arrayValue":{"values":[{"boolValue":true},
          {"kvlistValue":{"values":[{"key":"k","value":{"bytesValue":"/wA="}}]}}]}}}],
      "events":[{"name":"gen_ai.choice"}],
      "status":{"code":2,"message":"boom"}}]}]}]})";
  Result<DecodedExport> json = DecodeExport(body, Encoding::kJson);
  ASSERT_TRUE(json.ok()) << json.status().message();
  Result<DecodedExport> pb = DecodeExport(OneSpan().SerializeAsString(), Encoding::kProtobuf);
  ASSERT_TRUE(pb.ok());
  ASSERT_EQ(json->spans.size(), 1u);
  EXPECT_EQ(json->spans[0].json, pb->spans[0].json);
  EXPECT_EQ(json->spans[0].user, "alice");
}

// Span.flags bits 8 and 9 (0x100 known, 0x200 remote): the parent is another process's, so a
// chat span below it need not wait for it.
TEST(OtlpDecode, ParentRemoteFlagIsKeptOnlyWhenKnownAndSet) {
  const std::string parent = Bytes({0xb1, 2, 3, 4, 5, 6, 7, 8});
  for (const uint32_t flags : {0x000u, 0x100u, 0x200u, 0x301u}) {
    ExportTraceServiceRequest request = OneSpan();
    Span* span = request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
    span->set_parent_span_id(parent);
    span->set_flags(flags);
    Result<DecodedExport> out = DecodeExport(request.SerializeAsString(), Encoding::kProtobuf);
    ASSERT_TRUE(out.ok()) << out.status().message();
    ASSERT_EQ(out->spans.size(), 1u);
    const bool remote = flags == 0x301u;
    EXPECT_EQ(out->spans[0].parent_span_id, "b102030405060708");
    EXPECT_EQ(out->spans[0].parent_remote, remote) << flags;
    EXPECT_NE(out->spans[0].json.find(remote ? "\"parent_remote\":true" : "\"parent_remote\":false"),
              std::string::npos) << out->spans[0].json;
  }
  // The JSON mapping: flags as a number; a root span is never "parent remote".
  const std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a102030405060708",
     "parentSpanId":"b102030405060708","flags":769,"name":"GET /plan"},
    {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a202030405060708","flags":768},
    {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a302030405060708","flags":"x"}]}]}]})";
  Result<DecodedExport> json = DecodeExport(body, Encoding::kJson);
  ASSERT_TRUE(json.ok()) << json.status().message();
  ASSERT_EQ(json->spans.size(), 2u);
  EXPECT_EQ(json->rejected, 1);  // flags that are not a number
  EXPECT_TRUE(json->spans[0].parent_remote);
  EXPECT_FALSE(json->spans[1].parent_remote);
  EXPECT_FALSE(json->spans[0].genai);
  // What is kept of it: the ids, never its name.
  EXPECT_EQ(LinkJson(json->spans[0]),
            "{\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\",\"span_id\":\"a102030405060708\","
            "\"parent_span_id\":\"b102030405060708\",\"parent_remote\":true,\"attributes\":{},"
            "\"events\":[]}");
}

TEST(OtlpDecode, SpanUserAttributeWinsOverTheResources) {
  ExportTraceServiceRequest request = OneSpan();
  KeyValue* user = request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)
                       ->add_attributes();
  user->set_key("enduser.id");
  user->mutable_value()->set_string_value("bob");
  Result<DecodedExport> out = DecodeExport(request.SerializeAsString(), Encoding::kProtobuf);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->spans[0].user, "bob");
}

TEST(OtlpDecode, MalformedBodiesAreInvalidArgument) {
  for (const std::string& body : {std::string("\xff\xff\xff\xff"), std::string("\x0a\x05\x01", 3)}) {
    Result<DecodedExport> out = DecodeExport(body, Encoding::kProtobuf);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), omniflow::Status::Code::kInvalidArgument);
  }
  for (const char* body : {"", "[]", "{\"resourceSpans\":", "{\"resourceSpans\":{}}", "nope"}) {
    Result<DecodedExport> out = DecodeExport(body, Encoding::kJson);
    EXPECT_FALSE(out.ok()) << body;
  }
  // An empty export is valid, in both encodings.
  EXPECT_TRUE(DecodeExport("", Encoding::kProtobuf).ok());
  EXPECT_TRUE(DecodeExport("{}", Encoding::kJson).ok());
}

TEST(OtlpDecode, InvalidSpansAreRejectedOneByOne) {
  ExportTraceServiceRequest request = OneSpan();
  ScopeSpans* scope = request.mutable_resource_spans(0)->mutable_scope_spans(0);
  Span* zero = scope->add_spans();
  *zero = scope->spans(0);
  zero->set_trace_id(std::string(16, '\0'));
  Span* short_id = scope->add_spans();
  *short_id = scope->spans(0);
  short_id->set_span_id("abc");
  Result<DecodedExport> out = DecodeExport(request.SerializeAsString(), Encoding::kProtobuf);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->spans.size(), 1u);
  EXPECT_EQ(out->rejected, 2);
  EXPECT_NE(out->reject_reason.find("trace_id"), std::string::npos);

  const std::string json = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"zz","spanId":"a102030405060708"},
    {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a102030405060708","startTimeUnixNano":"-1"},
    {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a102030405060708","status":{"code":7}},
    7]}]}]})";
  Result<DecodedExport> j = DecodeExport(json, Encoding::kJson);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->spans.size(), 0u);
  EXPECT_EQ(j->rejected, 4);
}

ExportTraceServiceRequest Nested(int levels) {
  ExportTraceServiceRequest request = OneSpan();
  AnyValue* v = request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)
                    ->add_attributes()->mutable_value();
  for (int i = 0; i < levels; ++i) v = v->mutable_array_value()->add_values();
  v->set_string_value("deep");
  return request;
}

TEST(OtlpDecode, DeeplyNestedValuesAreRejectedNotRecursedInto) {
  // Deeper than our limit: the span is refused.
  Result<DecodedExport> out = DecodeExport(Nested(20).SerializeAsString(), Encoding::kProtobuf);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->spans.size(), 0u);
  EXPECT_EQ(out->rejected, 1);
  // Deeper than protobuf's own recursion limit: the whole export is refused.
  EXPECT_EQ(DecodeExport(Nested(60).SerializeAsString(), Encoding::kProtobuf).status().code(),
            omniflow::Status::Code::kInvalidArgument);

  std::string deep = "{\"stringValue\":\"x\"}";
  for (int i = 0; i < 40; ++i) deep = "{\"arrayValue\":{\"values\":[" + deep + "]}}";
  const std::string json = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a102030405060708","attributes":[{"key":"d","value":)" + deep + "}]}]}]}]}";
  Result<DecodedExport> j = DecodeExport(json, Encoding::kJson);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->rejected, 1);
}

std::string Gzip(std::string_view data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(OtlpGunzip, InflatesWithinTheLimit) {
  const std::string body = OneSpan().SerializeAsString();
  Result<std::string> out = Gunzip(Gzip(body), 1 << 20);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, body);
}

TEST(OtlpGunzip, RefusesABombAsTooLarge) {
  const std::string bomb = Gzip(std::string(64 << 20, '\0'));
  EXPECT_LT(bomb.size(), 100u << 10);
  Result<std::string> out = Gunzip(bomb, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), omniflow::Status::Code::kTooLarge);
}

TEST(OtlpGunzip, RefusesWhatIsNotGzipOrIsTruncated) {
  EXPECT_EQ(Gunzip("plain text", 1 << 20).status().code(), omniflow::Status::Code::kInvalidArgument);
  const std::string gz = Gzip(std::string(10000, 'a'));
  EXPECT_EQ(Gunzip(gz.substr(0, gz.size() / 2), 1 << 20).status().code(),
            omniflow::Status::Code::kInvalidArgument);
}

TEST(OtlpResponse, PartialSuccessInBothEncodings) {
  ExportTraceServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(ExportResponse(Encoding::kProtobuf, 3, "three bad")));
  EXPECT_EQ(response.partial_success().rejected_spans(), 3);
  EXPECT_EQ(response.partial_success().error_message(), "three bad");
  EXPECT_EQ(ExportResponse(Encoding::kProtobuf, 0, ""), "");
  EXPECT_EQ(ExportResponse(Encoding::kJson, 0, ""), "{}");
  EXPECT_EQ(ExportResponse(Encoding::kJson, 2, "x"),
            "{\"partialSuccess\":{\"rejectedSpans\":\"2\",\"errorMessage\":\"x\"}}");
  RpcStatus status;
  ASSERT_TRUE(status.ParseFromString(ErrorBody(Encoding::kProtobuf, 3, "bad")));
  EXPECT_EQ(status.code(), 3);
  EXPECT_EQ(status.message(), "bad");
}

}  // namespace
}  // namespace omniflow::otlp
