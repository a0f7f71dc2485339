// Applies a TextRedactor to a validated save: the user message, the assistant response, and
// every string value inside tool-call arguments, results and other fields and inside metadata,
// at any depth. Left as they are: object keys, tool names and statuses, numbers, and the thread
// id (ids and timestamps are not part of a SaveRequest's text). A JSON document held inside a
// string is scanned as the string it is. BuildInteraction calls it when given a redactor.
#pragma once

#include "core/text_redactor.h"
#include "core/validate.h"

namespace omniflow {

// Redacts `request` in place; its parts stay canonical JSON. Parts with nothing to redact are
// not rewritten. Thread-safe (one parser per thread).
void RedactSaveRequest(const TextRedactor& redactor, SaveRequest* request);

}  // namespace omniflow
