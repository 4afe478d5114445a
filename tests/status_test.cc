// Status and Result<T> (sim/base/result.h): ok() means success, each
// factory gives its code, ToString prints "file: path: message" as the
// CLI documents, and Result holds a value or a non-ok Status.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "sim/base/result.h"

namespace hooksim {
namespace {

TEST(StatusTest, DefaultAndOkAreSuccess) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_TRUE(s.message().empty());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(Status::Ok(), s);
}

TEST(StatusTest, EachFactoryGivesItsCode) {
  const std::pair<Status, StatusCode> cases[] = {
      {Status::InvalidArgument("m"), StatusCode::kInvalidArgument},
      {Status::NotFound("m"), StatusCode::kNotFound},
      {Status::IoError("m"), StatusCode::kIoError},
      {Status::Unavailable("m"), StatusCode::kUnavailable},
      {Status::FailedPrecondition("m"), StatusCode::kFailedPrecondition},
      {Status::DeadlineExceeded("m"), StatusCode::kDeadlineExceeded},
      {Status::Internal("m"), StatusCode::kInternal},
  };
  for (const auto& [status, code] : cases) {
    EXPECT_FALSE(status.ok()) << StatusCodeName(code);
    EXPECT_EQ(status.code(), code);
    EXPECT_EQ(status.message(), "m");
    EXPECT_EQ(status.ToString(), "m");
  }
}

TEST(StatusTest, CodeNamesAreDistinct) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "ok");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "not found");
  EXPECT_EQ(StatusCodeName(StatusCode::kIoError), "I/O error");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "unavailable");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition),
            "failed precondition");
  EXPECT_EQ(StatusCodeName(StatusCode::kDeadlineExceeded), "deadline exceeded");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "internal");
}

TEST(StatusTest, ToStringLeavesOutEmptyParts) {
  Status s = Status::InvalidArgument("expected an integer", "/events/count");
  EXPECT_EQ(s.path(), "/events/count");
  EXPECT_EQ(s.ToString(), "/events/count: expected an integer");
  s.set_file("s.json");
  EXPECT_EQ(s.file(), "s.json");
  EXPECT_EQ(s.ToString(), "s.json: /events/count: expected an integer");
  s.set_path("");
  EXPECT_EQ(s.ToString(), "s.json: expected an integer");
  s.set_message("other");
  EXPECT_EQ(s.ToString(), "s.json: other");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(StatusTest, SettersLeaveAnOkStatusOk) {
  Status s = Status::Ok();
  s.set_message("x");
  s.set_path("/p");
  s.set_file("f");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, EqualityComparesCodeAndContext) {
  EXPECT_EQ(Status::NotFound("a", "/x"), Status::NotFound("a", "/x"));
  EXPECT_NE(Status::NotFound("a"), Status::IoError("a"));
  EXPECT_NE(Status::NotFound("a"), Status::NotFound("b"));
  EXPECT_NE(Status::NotFound("a", "/x"), Status::NotFound("a", "/y"));
  EXPECT_NE(Status::NotFound("a"), Status::Ok());
}

TEST(StatusDeathTest, AnErrorNeedsANonOkCode) {
  EXPECT_DEATH((void)Status(StatusCode::kOk, "no"), "non-ok code");
}

Result<int> Half(int n) {
  if (n % 2 != 0) {
    return Status::InvalidArgument("odd: " + std::to_string(n), "/n");
  }
  return n / 2;
}

TEST(ResultTest, HoldsAValue) {
  Result<int> r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 4);
  EXPECT_EQ(r.value(), 4);
  EXPECT_TRUE(r.status().ok());
}

TEST(ResultTest, HoldsAnError) {
  Result<int> r = Half(3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().ToString(), "/n: odd: 3");
  EXPECT_EQ(r.status(), r.error());
}

TEST(ResultTest, MovesOutAMoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

TEST(ResultDeathTest, AnOkStatusIsNotAnError) {
  EXPECT_DEATH((void)Result<int>(Status::Ok()), "ok Status");
}

TEST(ResultDeathTest, ValueOfAnErrorStops) {
  const Result<int> r = Half(1);
  EXPECT_DEATH((void)r.value(), "odd: 1");
}

}  // namespace
}  // namespace hooksim
