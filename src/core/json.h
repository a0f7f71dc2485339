// Writing JSON text: JsonWriter, the one way responses and stored documents are built, and the
// helpers under it (string escaping, the canonical compact form of a parsed simdjson element).
// Output is compact (no whitespace); stored canonical JSON is spliced in without re-serialising.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace omniflow {

// Appends `text` as a quoted JSON string. `text` must be valid UTF-8 (validated input); control
// characters, quotes and backslashes are escaped.
void AppendJsonString(std::string* out, std::string_view text);

// Returns `text` as a quoted JSON string.
std::string JsonString(std::string_view text);

// Appends the compact canonical JSON of `element` (keys in input order, no whitespace).
void AppendJson(std::string* out, simdjson::dom::element element);

// Appends compact JSON to a string, placing the commas itself:
//
//   JsonWriter w;
//   w.BeginObject().Field("status", "success").Key("items").BeginArray();
//   for (const std::string& item : stored) w.Raw(item);
//   w.EndArray().Field("total", n).EndObject();
//   std::string body = w.Release();
//
// Commas need no stack: a comma goes before a key or value exactly when the previous token was
// a complete value (a scalar, Raw, or a closing bracket), so one flag carries the state and the
// writer never allocates beyond its output. Keys and strings are escaped like
// AppendJsonString; they must be valid UTF-8.
//
// The writer does not check the shape of what it writes: the caller pairs Begin/End, writes a
// Key before each value inside an object and none inside an array. Not thread-safe; not
// copyable or movable (it may point at its own buffer).
class JsonWriter {
 public:
  // Writes into a buffer of its own; take it with Release().
  JsonWriter() : out_(&own_) {}
  // Appends to `*out`, which must outlive the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // Opens an object that starts with the members of `object`, stored canonical JSON spliced in
  // verbatim, so that more members can follow before EndObject().
  // REQUIRES: `object` is a JSON object with nothing after its closing brace.
  JsonWriter& BeginObjectFrom(std::string_view object);

  // The name of the next member of the current object.
  JsonWriter& Key(std::string_view name) {
    Quoted(name, ':');
    need_comma_ = false;
    return *this;
  }

  JsonWriter& String(std::string_view text) {
    Quoted(text, '\0');
    return Done();
  }
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  // The shortest text that reads back as `value`. JSON has no NaN or infinity: a non-finite
  // value is written as 0.
  JsonWriter& Double(double value);
  // `value` to `significant_digits` digits, as printf's "%.*g" writes it; non-finite as 0.
  // `significant_digits` is clamped to 1..17 (a double holds no more).
  JsonWriter& Double(double value, int significant_digits);
  JsonWriter& Bool(bool value) { return Literal(value ? "true" : "false"); }
  JsonWriter& Null() { return Literal("null"); }
  // Splices `json` in as one value. REQUIRES: `json` is valid JSON (stored canonical JSON, or
  // text this program wrote); it is not checked.
  JsonWriter& Raw(std::string_view json) { return Literal(json); }
  // The canonical compact form of a parsed element (AppendJson).
  JsonWriter& Element(simdjson::dom::element element) {
    Separate();
    AppendJson(out_, element);
    return Done();
  }

  // Key(key) and then the value. Integers of any width (not bool) are written as integers.
  JsonWriter& Field(std::string_view key, std::string_view text) { return Key(key).String(text); }
  JsonWriter& Field(std::string_view key, const char* text) { return Key(key).String(text); }
  JsonWriter& Field(std::string_view key, const std::string& text) {
    return Key(key).String(text);
  }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }
  JsonWriter& Field(std::string_view key, double value) { return Key(key).Double(value); }
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  JsonWriter& Field(std::string_view key, T value) {
    Key(key);
    if constexpr (std::is_signed_v<T>) {
      return Int(value);
    } else {
      return Uint(value);
    }
  }
  // Key(key) and then `json` spliced in as by Raw.
  JsonWriter& RawField(std::string_view key, std::string_view json) { return Key(key).Raw(json); }

  void Reserve(size_t bytes) { out_->reserve(out_->size() + bytes); }
  // The text so far (all of the buffer, for a writer given one).
  const std::string& str() const { return *out_; }
  // Moves the text out, leaving the buffer empty (the caller's string too, for a writer given
  // one).
  std::string Release() {
    std::string text = std::move(*out_);
    out_->clear();
    need_comma_ = false;
    return text;
  }

 private:
  // The comma if one is due, `text` quoted and escaped, then `suffix` unless it is '\0'. A short
  // text that needs no escaping (keys, ids, timestamps: most strings written) goes in with one
  // append; anything else through AppendJsonString.
  void Quoted(std::string_view text, char suffix);
  void Separate() {
    if (need_comma_) out_->push_back(',');
  }
  JsonWriter& Done() {
    need_comma_ = true;
    return *this;
  }
  JsonWriter& Literal(std::string_view text) {
    Separate();
    out_->append(text);
    return Done();
  }
  JsonWriter& Open(char bracket) {
    Separate();
    out_->push_back(bracket);
    need_comma_ = false;
    return *this;
  }
  JsonWriter& Close(char bracket) {
    out_->push_back(bracket);
    return Done();
  }

  std::string own_;
  std::string* out_;
  // True after a complete value: the next key or value needs a comma before it.
  bool need_comma_ = false;
};

}  // namespace omniflow
