#include "sim/base/result.h"

namespace hooksim {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kIoError:
      return "I/O error";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kFailedPrecondition:
      return "failed precondition";
    case StatusCode::kDeadlineExceeded:
      return "deadline exceeded";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string message, std::string path)
    : code_(code), message_(std::move(message)), path_(std::move(path)) {
  HOOKSIM_CHECK(code != StatusCode::kOk,
                "an error Status needs a non-ok code (message: %s)",
                message_.c_str());
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out;
  if (!file_.empty()) out += file_ + ": ";
  if (!path_.empty()) out += path_ + ": ";
  out += message_;
  return out;
}

}  // namespace hooksim
