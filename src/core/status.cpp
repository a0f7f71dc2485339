#include "core/status.h"

namespace omniflow {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

}  // namespace omniflow
