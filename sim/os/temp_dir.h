// A fresh directory under $TMPDIR (or /tmp), named PREFIX-XXXXXX, removed
// with everything in it when the object goes: for conformance runs' event
// files and for tests.
// Errors: when the directory cannot be created, ok() is false and path() is
// empty (the caller reports it). Thread: one owner.
#ifndef HOOKSIM_SIM_OS_TEMP_DIR_H_
#define HOOKSIM_SIM_OS_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace hooksim {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "hooksim");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_OS_TEMP_DIR_H_
