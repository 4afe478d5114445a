// The durable journal of `hooksim receiver --journal-file F`: entries
// appended as JSON lines (journal_json.h), one line per entry.
//
// What is flushed when: every line is written with one write(2) on a file
// opened with O_APPEND, as the entry is recorded (before the answer is
// sent), from the process's memory straight to the kernel: a receiver
// killed at any moment (SIGKILL included) leaves every line it finished
// writing, whole; there is no user-space buffer to lose. Nothing is
// fsync'ed: a crash of the machine itself may lose the last lines.
// A line that is later amended (the sender stopped waiting for its answer)
// is followed by {"amend": INDEX, "abandoned": true} (with "receiver").
// Thread: Append is safe to call concurrently (lines never interleave).
#ifndef HOOKSIM_MOCK_RECEIVERS_JOURNAL_FILE_H_
#define HOOKSIM_MOCK_RECEIVERS_JOURNAL_FILE_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "sim/base/result.h"

namespace hooksim {

class JournalFile {
 public:
  // Opens (creates, appends to) `path`; an error names the file and why.
  static Result<std::shared_ptr<JournalFile>> Open(const std::string& path);
  ~JournalFile();
  JournalFile(const JournalFile&) = delete;
  JournalFile& operator=(const JournalFile&) = delete;

  // Appends `line` and a newline with one write(). A failed write is
  // counted (write_errors()), not retried.
  void Append(std::string_view line);
  uint64_t write_errors() const { return errors_.load(); }
  const std::string& path() const { return path_; }

 private:
  JournalFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  const int fd_;
  const std::string path_;
  std::atomic<uint64_t> errors_{0};
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_JOURNAL_FILE_H_
