// Status and Result<T>: errors as values at module boundaries (after leveldb's status.h).
// A Status is either ok or carries a code (what went wrong, in the domain's words, never an HTTP
// status) and a human-readable message; the API layer maps codes to HTTP statuses in exactly one
// place (api/respond.cpp).
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace omniflow {

class Status {
 public:
  // What went wrong, in the words of the caller's next step. The API layer alone turns a code
  // into an HTTP status (api/respond.cpp).
  enum class Code {
    kOk,
    // The request is malformed or breaks a rule: the same request fails again until changed.
    kInvalidArgument,
    // An input is larger than a fixed limit: the same input is always refused; a smaller one
    // may pass. Apart from kInvalidArgument because the remedy differs (shrink, not fix).
    kTooLarge,
    // The input is declared in a format this operation does not read (another media type than
    // the one it expects); the same content in the expected format may pass.
    kUnsupportedFormat,
    // No valid credentials were presented.
    kUnauthenticated,
    // The caller is known but may not do this.
    kPermissionDenied,
    // The thing asked for does not exist (or is not the caller's to see).
    kNotFound,
    // A thing to be created exists already (a unique key is taken).
    kAlreadyExists,
    // The stored state does not allow the operation (a constraint other than uniqueness): it
    // fails again until that state changes.
    kFailedPrecondition,
    // The operation lost a conflict with concurrent work (a deadlock, a serialization failure,
    // a snapshot gone stale) and had no effect: retrying the whole operation may succeed.
    kAborted,
    // A quota or capacity is used up (the caller's requests in flight, a full disk, a server
    // out of connections or memory): retry later, after something has been released.
    kResourceExhausted,
    // The operation did not finish in time; it may or may not have taken effect.
    kDeadlineExceeded,
    // The service cannot serve now (a store down or unreachable, a connection lost, a queue
    // full, a feature not enabled here); nothing is wrong with the request, and a retry later
    // may succeed.
    kUnavailable,
    // A service called on the caller's behalf (the LLM provider, an upstream function) failed,
    // could not be reached, or answered with something unusable. Apart from kUnavailable, which
    // says this server itself cannot serve, so that a client can tell the two apart.
    kUpstreamFailed,
    // A bug or a broken invariant here; the message is for the operator, not the caller.
    kInternal,
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status TooLarge(std::string m) { return Status(Code::kTooLarge, std::move(m)); }
  static Status UnsupportedFormat(std::string m) {
    return Status(Code::kUnsupportedFormat, std::move(m));
  }
  static Status Unauthenticated(std::string m) { return Status(Code::kUnauthenticated, std::move(m)); }
  static Status PermissionDenied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
  static Status FailedPrecondition(std::string m) {
    return Status(Code::kFailedPrecondition, std::move(m));
  }
  static Status Aborted(std::string m) { return Status(Code::kAborted, std::move(m)); }
  static Status ResourceExhausted(std::string m) {
    return Status(Code::kResourceExhausted, std::move(m));
  }
  static Status DeadlineExceeded(std::string m) {
    return Status(Code::kDeadlineExceeded, std::move(m));
  }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status UpstreamFailed(std::string m) {
    return Status(Code::kUpstreamFailed, std::move(m));
  }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// True for a failure that says nothing about the request: the service could not do it now
// (kAborted, kResourceExhausted, kDeadlineExceeded, kUnavailable), and the same request may
// succeed later.
bool IsTransient(Status::Code code);

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
