// The one mapping of Status codes to HTTP statuses, and what a failed store call answers.
#include "api/respond.h"

#include <gtest/gtest.h>

namespace omniflow::api {
namespace {

bool HasRetryAfter(const http::Response& r) {
  for (const auto& [name, value] : r.headers) {
    if (name == "Retry-After") return true;
  }
  return false;
}

TEST(HttpStatus, EachCodeHasItsStatus) {
  using C = Status::Code;
  EXPECT_EQ(HttpStatus(C::kOk), 200);
  EXPECT_EQ(HttpStatus(C::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatus(C::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatus(C::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatus(C::kNotFound), 404);
  EXPECT_EQ(HttpStatus(C::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatus(C::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatus(C::kTooLarge), 413);
  EXPECT_EQ(HttpStatus(C::kUnsupportedFormat), 415);
  EXPECT_EQ(HttpStatus(C::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatus(C::kInternal), 500);
  EXPECT_EQ(HttpStatus(C::kUpstreamFailed), 502);
  EXPECT_EQ(HttpStatus(C::kAborted), 503);
  EXPECT_EQ(HttpStatus(C::kUnavailable), 503);
  EXPECT_EQ(HttpStatus(C::kDeadlineExceeded), 504);
}

TEST(ErrorFrom, RetryableAnswersCarryRetryAfter) {
  EXPECT_TRUE(HasRetryAfter(ErrorFrom(Status::Unavailable("x"))));
  EXPECT_TRUE(HasRetryAfter(ErrorFrom(Status::ResourceExhausted("x"))));
  EXPECT_FALSE(HasRetryAfter(ErrorFrom(Status::UpstreamFailed("x"))));
  EXPECT_FALSE(HasRetryAfter(ErrorFrom(Status::InvalidArgument("x"))));
}

TEST(StoreError, TransientStoreFailuresAre503AndTheRestAre500WithoutTheEnginesText) {
  for (const Status& s :
       {Status::Unavailable("db down"), Status::Aborted("deadlock"),
        Status::ResourceExhausted("disk full"), Status::DeadlineExceeded("statement timeout")}) {
    http::Response r = StoreError(s);
    EXPECT_EQ(r.status, 503) << s.message();
    EXPECT_TRUE(HasRetryAfter(r)) << s.message();
    EXPECT_EQ(r.body.find(s.message()), std::string::npos);
    EXPECT_EQ(r.log_error, s.message());
  }
  for (const Status& s : {Status::Internal("bug"), Status::AlreadyExists("duplicate key"),
                          Status::FailedPrecondition("not null")}) {
    http::Response r = StoreError(s);
    EXPECT_EQ(r.status, 500) << s.message();
    EXPECT_EQ(r.body.find(s.message()), std::string::npos);
    EXPECT_EQ(r.log_error, s.message());
  }
  EXPECT_EQ(StoreError(Status::NotFound("no such thread")).status, 404);
  EXPECT_EQ(StoreError(Status::InvalidArgument("q cannot be searched")).status, 400);
  EXPECT_EQ(StoreError(Status::PermissionDenied("not yours")).status, 403);
}

}  // namespace
}  // namespace omniflow::api
