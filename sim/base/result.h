// Errors as values across module boundaries.
//
// Error carries a human-readable message; when the error is about a place in
// a JSON document, `path` holds a JSON pointer ("/receivers/flaky/behavior")
// and `file` the document's file name, so the CLI can print
// "FILE: PATH: MESSAGE". Result<T> holds either a T or an Error.
// Thread: plain values, no shared state.
#ifndef HOOKSIM_SIM_BASE_RESULT_H_
#define HOOKSIM_SIM_BASE_RESULT_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace hooksim {

struct Error {
  std::string message;
  std::string path;  // JSON pointer, empty when not about a document place.
  std::string file;  // Source file name, empty when not from a file.

  // "file: path: message", leaving out the parts that are empty.
  std::string ToString() const {
    std::string out;
    if (!file.empty()) out += file + ": ";
    if (!path.empty()) out += path + ": ";
    out += message;
    return out;
  }
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit.
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit.

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation with no value: std::nullopt means success.
using Status = std::optional<Error>;

inline Error MakeError(std::string message, std::string path = {}) {
  return Error{std::move(message), std::move(path), {}};
}

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_RESULT_H_
