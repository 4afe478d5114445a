// Errors as values across module boundaries (leveldb/absl style).
//
// Status is ok() on success; otherwise it carries a StatusCode, a
// human-readable message and, when the error is about a place in a JSON
// document, `path` (a JSON pointer, "/receivers/flaky/behavior") and `file`
// (the document's file name), so the CLI can print "FILE: PATH: MESSAGE".
// Result<T> holds either a T or a non-ok Status. Both are [[nodiscard]]:
// a caller handles the error or says with `(void)` and a comment why not.
// The command line maps codes to exit codes in one place
// (sim/cli/exit_code.h).
// Thread: plain values, no shared state.
#ifndef HOOKSIM_SIM_BASE_RESULT_H_
#define HOOKSIM_SIM_BASE_RESULT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "sim/base/check.h"

namespace hooksim {

// What kind of failure a Status reports. Closed set: add a code only when a
// caller must act differently on it.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // A bad flag, field, value or document.
  kNotFound,            // A missing file, state database, hook or delivery.
  kIoError,             // A read, write, socket or database operation failed.
  kUnavailable,         // Busy or unreachable: a port in use, a locked store.
  kFailedPrecondition,  // The state does not allow it (a newer schema, ...).
  kDeadlineExceeded,    // A step or wall-time limit stopped a run.
  kInternal,            // A broken invariant reported instead of aborting.
};

// "ok", "invalid argument", "not found", ... (stable, for logs and tests).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // Success.
  Status() = default;
  // An error; `code` must not be kOk (checked).
  Status(StatusCode code, std::string message, std::string path = {});

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message, std::string path = {}) {
    return Status(StatusCode::kInvalidArgument, std::move(message),
                  std::move(path));
  }
  static Status NotFound(std::string message, std::string path = {}) {
    return Status(StatusCode::kNotFound, std::move(message), std::move(path));
  }
  static Status IoError(std::string message, std::string path = {}) {
    return Status(StatusCode::kIoError, std::move(message), std::move(path));
  }
  static Status Unavailable(std::string message, std::string path = {}) {
    return Status(StatusCode::kUnavailable, std::move(message),
                  std::move(path));
  }
  static Status FailedPrecondition(std::string message, std::string path = {}) {
    return Status(StatusCode::kFailedPrecondition, std::move(message),
                  std::move(path));
  }
  static Status DeadlineExceeded(std::string message, std::string path = {}) {
    return Status(StatusCode::kDeadlineExceeded, std::move(message),
                  std::move(path));
  }
  static Status Internal(std::string message, std::string path = {}) {
    return Status(StatusCode::kInternal, std::move(message), std::move(path));
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Empty when ok().
  const std::string& message() const { return message_; }
  // JSON pointer of the bad place; empty when not about a document place.
  const std::string& path() const { return path_; }
  // Source file name; empty when not from a file.
  const std::string& file() const { return file_; }

  // Context setters for a non-ok Status (no effect on an ok one).
  void set_message(std::string message) {
    if (!ok()) message_ = std::move(message);
  }
  void set_path(std::string path) {
    if (!ok()) path_ = std::move(path);
  }
  void set_file(std::string file) {
    if (!ok()) file_ = std::move(file);
  }

  // "file: path: message", leaving out the parts that are empty; "OK" when
  // ok(). The code is not printed (messages are user-facing and documented).
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string path_;
  std::string file_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit.
  // `status` must not be ok (checked): a Result without a value is an error.
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit.
    HOOKSIM_CHECK(!std::get<1>(v_).ok(), "Result built from an ok Status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    HOOKSIM_CHECK(ok(), "value() of an error: %s", error().ToString().c_str());
    return std::get<0>(v_);
  }
  const T& value() const& {
    HOOKSIM_CHECK(ok(), "value() of an error: %s", error().ToString().c_str());
    return std::get<0>(v_);
  }
  T&& value() && {
    HOOKSIM_CHECK(ok(), "value() of an error: %s", error().ToString().c_str());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error; only when !ok() (checked).
  const Status& error() const {
    HOOKSIM_CHECK(!ok(), "error() of a value");
    return std::get<1>(v_);
  }
  // Ok when a value is held, otherwise the error.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_RESULT_H_
