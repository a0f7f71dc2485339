// The export formats of issue 13, as pure encoders from scanned interactions to text: `jsonl`
// (the object history returns, one per line), `csv` (RFC 4180 with a header row) and `openai`
// (one chat fine-tuning example per thread). No store, no HTTP: exporter.h feeds them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/status.h"
#include "store/interaction_store.h"

namespace omniflow::api {

enum class ExportFormat { kJsonl, kCsv, kOpenAi };

// "jsonl", "csv" or "openai"; InvalidArgument names the three otherwise.
Result<ExportFormat> ParseExportFormat(std::string_view name);
// application/x-ndjson (jsonl, openai) or text/csv.
std::string_view ExportContentType(ExportFormat format);
// "jsonl" or "csv", for a file name.
std::string_view ExportExtension(ExportFormat format);

// The csv header row (with its CRLF).
inline constexpr std::string_view kCsvHeader =
    "interaction_id,timestamp,user_id,thread_id,user_message,assistant_response,tool_calls,"
    "metadata,feedback_score\r\n";

// Appends `field` to `out` as one RFC 4180 field: quoted (quotes doubled) when it holds a
// comma, a quote, CR or LF, else as it is.
void AppendCsvField(std::string* out, std::string_view field);

// Turns interactions into export text, in the order they are given. For `openai`, the rows of a
// thread must come together and in order (ScanOrder::kThread); a thread's line is written when
// the next thread begins, or by Finish. Memory: one thread's messages at most. Not thread-safe.
class ExportEncoder {
 public:
  explicit ExportEncoder(ExportFormat format) : format_(format) {}

  // What comes before the first row (csv: the header row).
  void Begin(std::string* out);
  // Appends the text of `row`. Internal when its stored JSON cannot be read.
  Status Add(const ScannedInteraction& row, std::string* out);
  // What comes after the last row (openai: the last thread's line).
  void Finish(std::string* out);

 private:
  Status AddCsv(const ScannedInteraction& row, simdjson::dom::element doc, std::string* out);
  Status AddOpenAi(const ScannedInteraction& row, simdjson::dom::element doc, std::string* out);
  void FlushThread(std::string* out);

  ExportFormat format_;
  simdjson::dom::parser parser_;
  // openai: the thread being collected (user_id '\n' thread_id) and its messages so far, as
  // the inside of a JSON array.
  std::optional<std::string> thread_;
  std::string messages_;
};

}  // namespace omniflow::api
