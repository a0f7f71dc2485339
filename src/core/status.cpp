#include "core/status.h"

namespace omniflow {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

bool IsTransient(Status::Code code) {
  switch (code) {
    case Status::Code::kAborted:
    case Status::Code::kResourceExhausted:
    case Status::Code::kDeadlineExceeded:
    case Status::Code::kUnavailable:
      return true;
    default:
      return false;
  }
}

}  // namespace omniflow
