// A throwaway PostgreSQL cluster for tests: a copy of an initdb'd template
// (made once per machine in /tmp) in a temporary directory, postgres on 127.0.0.1 at a port the kernel picked, run as an
// unprivileged user (PostgreSQL refuses root: as root the cluster belongs
// to `nobody`), stopped (immediate) and removed when the object goes.
// Available() is false, with the reason in skip_reason(), only when the
// PostgreSQL server binaries are not installed; any other failure to start
// is error() (a test failure, not a skip).
#ifndef HOOKSIM_TESTS_PG_CLUSTER_H_
#define HOOKSIM_TESTS_PG_CLUSTER_H_

#include <arpa/inet.h>
#include <glob.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace hooksim {

class PgCluster {
 public:
  PgCluster() {
    bin_ = FindBin();
    if (bin_.empty()) {
      skip_reason_ =
          "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/"
          "initdb): install the Debian package postgresql (scripts/setup.sh "
          "does)";
      return;
    }
    char tmpl[] = "/tmp/hooksim_pg_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    const bool root = geteuid() == 0;
    if (root) {
      std::filesystem::permissions(dir_, std::filesystem::perms::all);
      if (!Sh("chown nobody:nogroup " + dir_)) return;
    }
    as_ = root ? "setpriv --reuid=nobody --regid=nogroup --clear-groups " : "";
    port_ = FreePort();
    // initdb once per machine (a few seconds), into a template every
    // cluster copies: made under a temporary name, renamed into place.
    const std::string tmpl_dir =
        "/tmp/hooksim_pg_template_" + std::to_string(geteuid()) + "_" +
        std::filesystem::path(bin_).parent_path().filename().string();
    if (!std::filesystem::exists(tmpl_dir + "/PG_VERSION")) {
      const std::string fresh = dir_ + "/template";
      if (!Sh(as_ + bin_ + "/initdb -D " + fresh + " -U hooksim -A trust "
              "-E UTF8 --no-locale --no-sync >" + dir_ + "/initdb.log 2>&1")) {
        return;
      }
      std::error_code ec;
      std::filesystem::rename(fresh, tmpl_dir, ec);  // Lost a race: fine.
      if (ec) std::filesystem::remove_all(fresh, ec);
    }
    if (!Sh(as_ + "cp -a " + tmpl_dir + " " + dir_ + "/data")) return;
    if (!Start()) return;
    if (!Sh("psql -q -h 127.0.0.1 -p " + std::to_string(port_) +
            " -U hooksim -d postgres -c 'CREATE DATABASE hooksim' >" + dir_ +
            "/createdb.log 2>&1")) {
      return;
    }
    up_ = true;
  }
  ~PgCluster() {
    if (!dir_.empty()) {
      Stop();
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  bool Available() const { return !bin_.empty(); }
  const std::string& skip_reason() const { return skip_reason_; }
  bool up() const { return up_; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  // postgres://hooksim@127.0.0.1:PORT/DB
  std::string Url(const std::string& db = "hooksim") const {
    return "postgres://hooksim@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }
  // Runs SQL through psql on `db`; true when it succeeded.
  bool Psql(const std::string& sql, const std::string& db = "hooksim") const {
    std::ofstream(dir_ + "/q.sql") << sql;
    return std::system(("psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " +
                        std::to_string(port_) + " -U hooksim -d " + db +
                        " -f " + dir_ + "/q.sql >/dev/null 2>&1")
                           .c_str()) == 0;
  }
  // pg_ctl start (waits until it accepts connections) / stop -m immediate.
  bool Start() {
    return Sh(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -w -t 60 -l " + dir_ +
              "/server.log -o '-p " + std::to_string(port_) +
              " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off' "
              "start >/dev/null 2>&1");
  }
  bool Stop() {
    return Sh(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w "
              "stop >/dev/null 2>&1");
  }

 private:
  static std::string FindBin() {
    glob_t g{};
    std::string best;
    if (glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::string p = g.gl_pathv[i];
        p = p.substr(0, p.size() - std::string("/initdb").size());
        if (access((p + "/pg_ctl").c_str(), X_OK) == 0 && p > best) best = p;
      }
    }
    globfree(&g);
    return best;
  }
  // A port the kernel says is free now (closed again for postgres).
  static int FreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof(a);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0) {
      port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
  }
  bool Sh(const std::string& cmd) {
    if (std::system(cmd.c_str()) == 0) return true;
    std::ifstream log(dir_ + "/server.log");
    std::stringstream text;
    text << log.rdbuf();
    error_ = "failed: " + cmd + "\n" + text.str();
    return false;
  }

  std::string bin_;
  std::string dir_;
  std::string as_;
  std::string skip_reason_;
  std::string error_;
  int port_ = 0;
  bool up_ = false;
};

}  // namespace hooksim

#endif  // HOOKSIM_TESTS_PG_CLUSTER_H_
