// Invariants: HOOKSIM_CHECK(condition, format, ...) aborts the process when
// `condition` is false, after printing "FILE:LINE: check failed: CONDITION:
// MESSAGE" (MESSAGE printf-formatted) to stderr. For programming errors and
// broken invariants only; bad input is reported as a Status, never checked.
// Thread: safe from any thread.
#ifndef HOOKSIM_SIM_BASE_CHECK_H_
#define HOOKSIM_SIM_BASE_CHECK_H_

namespace hooksim::internal {

[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const char* format, ...)
    __attribute__((format(printf, 4, 5)));

}  // namespace hooksim::internal

#define HOOKSIM_CHECK(condition, ...)                                  \
  do {                                                                 \
    if (!(condition)) [[unlikely]] {                                   \
      ::hooksim::internal::CheckFailed(__FILE__, __LINE__, #condition, \
                                       __VA_ARGS__);                   \
    }                                                                  \
  } while (0)

#endif  // HOOKSIM_SIM_BASE_CHECK_H_
