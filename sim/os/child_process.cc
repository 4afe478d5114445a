#include "sim/os/child_process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace hooksim {
namespace {

std::string Errno(const char* what) {
  return std::string(what) + ": " + strerror(errno);
}

// posix_spawn's attribute and file-action objects, destroyed on scope exit.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

void BecomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

std::string ChildOutcome::Describe() const {
  if (!ended) return "running";
  std::string s = signal != 0 ? "killed by signal " + std::to_string(signal)
                              : "exited with " + std::to_string(exit_code);
  if (stopped) s += " (stopped by hooksim)";
  return s;
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const ChildOptions& options) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status::IoError(Errno("pipe"));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    const Status e = Status::IoError(Errno("pipe"));
    close(out_pipe[0]);
    close(out_pipe[1]);
    return e;
  }
  // Standard input: a stream socket pair when the parent feeds it.
  int in_pair[2] = {-1, -1};
  if (options.stdin_stream &&
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    const Status e = Status::IoError(Errno("socketpair"));
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      close(fd);
    }
    return e;
  }
  // The environment: the parent's, minus the names `env` sets, plus `env`.
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : options.env) {
      if (entry.compare(0, name.size() + 1, name + "=") == 0) replaced = true;
    }
    if (!replaced) env_strings.push_back(entry);
  }
  for (const auto& [name, value] : options.env) {
    env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  SpawnSetup setup;
  if (options.stdin_stream) {
    posix_spawn_file_actions_adddup2(&setup.actions, in_pair[1], 0);
  } else {
    posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY,
                                     0);
  }
  posix_spawn_file_actions_adddup2(&setup.actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err_pipe[1], 2);
  // Nothing else of ours (listening sockets, other cases' pipes) leaks in.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setpgroup(&setup.attr, 0);  // A group of its own.
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP |
                                            POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
  std::string shell = "/bin/sh", dash_c = "-c", command = options.command;
  char* argv[] = {shell.data(), dash_c.data(), command.data(), nullptr};
  pid_t pid = -1;
  const auto started = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attr, argv,
                             envp.data());
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (in_pair[1] >= 0) {
    close(in_pair[1]);
    shutdown(in_pair[0], SHUT_RD);  // The parent only writes.
  }
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    if (in_pair[0] >= 0) close(in_pair[0]);
    return Status::IoError(std::string("cannot start /bin/sh: ") +
                           strerror(rc));
  }
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
  if (in_pair[0] >= 0) fcntl(in_pair[0], F_SETFL, O_NONBLOCK);
  return std::unique_ptr<ChildProcess>(
      new ChildProcess(pid, in_pair[0], out_pipe[0], err_pipe[0],
                       options.max_output_bytes, started));
}

ChildProcess::ChildProcess(pid_t pid, int in_fd, int out_fd, int err_fd,
                           size_t max_output,
                           std::chrono::steady_clock::time_point started)
    : pid_(pid),
      in_fd_(in_fd),
      out_fd_(out_fd),
      err_fd_(err_fd),
      max_output_(max_output),
      started_(started) {}

ChildProcess::~ChildProcess() {
  Stop(std::chrono::seconds(1));
  KillGroup();
  CloseFd(in_fd_);
  CloseFd(out_fd_);
  CloseFd(err_fd_);
}

void ChildProcess::Drain(int& fd, std::string& text, bool& truncated) {
  char buf[65536];
  // Bounded: at most 64 reads (4 MiB) per call; the rest waits for the
  // next Poll.
  for (int i = 0; fd >= 0 && i < 64; ++i) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      const size_t room = max_output_ - std::min(max_output_, text.size());
      const size_t keep = std::min(room, static_cast<size_t>(n));
      text.append(buf, keep);
      if (keep < static_cast<size_t>(n)) truncated = true;
      continue;
    }
    if (n == 0) {
      CloseFd(fd);  // End of file: every writer has gone.
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) CloseFd(fd);
    return;
  }
}

size_t ChildProcess::WriteStdin(std::string_view bytes) {
  size_t written = 0;
  // Bounded: each turn writes something or returns.
  while (in_fd_ >= 0 && written < bytes.size()) {
    const ssize_t n = send(in_fd_, bytes.data() + written,
                           bytes.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    CloseFd(in_fd_);  // The reader has gone (EPIPE) or the socket failed.
  }
  return written;
}

void ChildProcess::CloseStdin() { CloseFd(in_fd_); }

bool ChildProcess::Reap(bool block) {
  if (outcome_.ended) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  outcome_.ended = true;
  outcome_.ran = std::chrono::duration_cast<Duration>(
      std::chrono::steady_clock::now() - started_);
  if (WIFEXITED(status)) outcome_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome_.signal = WTERMSIG(status);
  return true;
}

bool ChildProcess::Poll(Duration wait) {
  pollfd fds[2];
  nfds_t n = 0;
  if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
  const int ms = static_cast<int>(
      std::max<int64_t>(0, std::min<int64_t>(ToMillis(wait), 60'000)));
  if (n > 0) {
    poll(fds, n, outcome_.ended ? 0 : ms);
  } else if (!outcome_.ended && ms > 0) {
    // Both pipes closed (the command closed its output): sleep in small
    // steps, checking for the exit.
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!Reap(false) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  Drain(out_fd_, outcome_.stdout_text, outcome_.stdout_truncated);
  Drain(err_fd_, outcome_.stderr_text, outcome_.stderr_truncated);
  const bool ended = Reap(false);
  if (ended) {
    // What the shell wrote just before exiting is in the pipes already.
    Drain(out_fd_, outcome_.stdout_text, outcome_.stdout_truncated);
    Drain(err_fd_, outcome_.stderr_text, outcome_.stderr_truncated);
  }
  return ended;
}

void ChildProcess::Stop(Duration grace) {
  if (Reap(false)) return;
  outcome_.stopped = true;
  kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Poll(Millis(20))) return;
  }
  kill(-pid_, SIGKILL);
  Reap(true);  // SIGKILL cannot be caught: this returns promptly.
  Drain(out_fd_, outcome_.stdout_text, outcome_.stdout_truncated);
  Drain(err_fd_, outcome_.stderr_text, outcome_.stderr_truncated);
}

bool ChildProcess::GroupAlive() const {
  // While the shell is not reaped it is in the group (maybe as a zombie).
  if (!outcome_.ended) return true;
  if (kill(-pid_, 0) != 0 && errno == ESRCH) return false;
  // Something has the group id: it counts unless it is a zombie (dead,
  // waiting for a parent that may not be us to reap it). /proc/PID/stat:
  // "pid (comm) state ppid pgrp ..."; comm may hold spaces and parens.
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return true;
  bool alive = false;
  // Bounded by the number of processes on the machine.
  while (dirent* d = readdir(dir)) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + d->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const size_t close_paren = line.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(line.substr(close_paren + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!(rest >> state >> ppid >> pgrp)) continue;
    if (pgrp == pid_ && state != 'Z' && state != 'X') {
      alive = true;
      break;
    }
  }
  closedir(dir);
  return alive;
}

bool ChildProcess::KillGroup() {
  if (!outcome_.ended) return false;
  bool killed = false;
  // Bounded: at most 2 s of 5 ms steps.
  for (int i = 0; i < 400; ++i) {
    // Reap the members that are ours (we are their subreaper, see
    // BecomeSubreaper) and dead; waitpid says 0 while some of ours live.
    pid_t r;
    while ((r = waitpid(-pid_, nullptr, WNOHANG)) > 0) {
    }
    const bool ours_left = r == 0;
    if (kill(-pid_, 0) != 0 && errno == ESRCH) return true;
    // Only zombies that another process (init) will reap are left.
    if (!ours_left && !GroupAlive()) return true;
    if (!killed) {
      kill(-pid_, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return !GroupAlive();
}

ChildOutcome ChildProcess::outcome() const {
  ChildOutcome o = outcome_;
  if (!o.ended) {
    o.ran = std::chrono::duration_cast<Duration>(
        std::chrono::steady_clock::now() - started_);
  }
  return o;
}

}  // namespace hooksim
