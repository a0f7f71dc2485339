// Status and Result<T>: errors as values at module boundaries (after leveldb's status.h).
// A Status is either ok or carries a code and a human-readable message; the HTTP layer maps
// codes to status lines in exactly one place (api/respond.cpp).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace omniflow {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,     // 400
    kUnauthenticated,     // 401
    kPermissionDenied,    // 403
    kNotFound,            // 404
    kFailedPrecondition,  // 409: the stored state forbids it (e.g. a legal hold)
    kMethodNotAllowed,    // 405
    kPayloadTooLarge,     // 413
    kUnsupportedMedia,    // 415
    kTooManyRequests,     // 429
    kInternal,            // 500
    kBadGateway,          // 502
    kUnavailable,         // 503
    kGatewayTimeout,      // 504
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status Unauthenticated(std::string m) { return Status(Code::kUnauthenticated, std::move(m)); }
  static Status PermissionDenied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status FailedPrecondition(std::string m) {
    return Status(Code::kFailedPrecondition, std::move(m));
  }
  static Status MethodNotAllowed(std::string m) { return Status(Code::kMethodNotAllowed, std::move(m)); }
  static Status PayloadTooLarge(std::string m) { return Status(Code::kPayloadTooLarge, std::move(m)); }
  static Status UnsupportedMedia(std::string m) { return Status(Code::kUnsupportedMedia, std::move(m)); }
  static Status TooManyRequests(std::string m) { return Status(Code::kTooManyRequests, std::move(m)); }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
  static Status BadGateway(std::string m) { return Status(Code::kBadGateway, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status GatewayTimeout(std::string m) { return Status(Code::kGatewayTimeout, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace omniflow
