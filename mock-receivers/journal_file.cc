#include "mock-receivers/journal_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hooksim {

Result<std::shared_ptr<JournalFile>> JournalFile::Open(
    const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("empty journal file name");
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IoError(path + ": cannot open for appending: " +
                           std::strerror(errno));
  }
  return std::shared_ptr<JournalFile>(new JournalFile(fd, path));
}

JournalFile::~JournalFile() { ::close(fd_); }

void JournalFile::Append(std::string_view line) {
  std::string out;
  out.reserve(line.size() + 1);
  out.append(line);
  out += '\n';
  ssize_t n;
  do {
    n = ::write(fd_, out.data(), out.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(out.size())) errors_.fetch_add(1);
}

}  // namespace hooksim
