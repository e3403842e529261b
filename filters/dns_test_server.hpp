// dns_test_server.hpp — a real DNS server for the resolver tests: Debian's
// unbound, run unprivileged in the foreground on a free loopback port with a
// generated config that serves the zones a test writes (local-zone /
// local-data, so nothing is ever asked of the internet). Also a "silent"
// server: a bound UDP socket that never answers, for timeouts.
//
// unbound is installed by scripts/install-deps.sh test; when it is missing the
// fixture fails with a message that says so.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sluice::filters::testing {

inline constexpr const char* kUnbound = "/usr/sbin/unbound";

// A loopback port free for both UDP and TCP right now.
inline std::uint16_t free_dns_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int u = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(u);
      continue;
    }
    int t = ::socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free = ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(t);
    ::close(u);
    if (tcp_free) return ntohs(a.sin_port);
  }
  throw std::runtime_error("no free loopback port");
}

// A UDP socket on a loopback port that receives queries and never answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("silent server: bind failed");
    port_ = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

class UnboundServer {
 public:
  // zones: local-zone names ("example.test."); records: local-data lines
  // ("a.example.test. 60 IN A 192.0.2.1"), quoted for unbound here.
  // extra: more "server:" options, e.g. "do-tcp: no".
  UnboundServer(std::vector<std::string> zones, std::vector<std::string> records,
                std::vector<std::string> extra = {})
      : zones_(std::move(zones)), records_(std::move(records)), extra_(std::move(extra)) {}
  ~UnboundServer() {
    stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  UnboundServer(const UnboundServer&) = delete;
  UnboundServer& operator=(const UnboundServer&) = delete;

  // Returns "" when serving, else why not.
  std::string start() {
    if (::access(kUnbound, X_OK) != 0)
      return std::string(kUnbound) + " is missing: install Debian's unbound (scripts/install-deps.sh test)";
    if (dir_.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-dns-XXXXXX").string();
      if (!::mkdtemp(tmpl.data())) return "mkdtemp failed";
      dir_ = tmpl;
      port_ = free_dns_port();
      write_config();
    }
    pid_ = ::fork();
    if (pid_ < 0) return "fork failed";
    if (pid_ == 0) {
      const std::string log = dir_ + "/unbound.log";
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      const std::string conf = dir_ + "/unbound.conf";
      ::execl(kUnbound, kUnbound, "-d", "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Serving once it logs so (after binding its sockets).
    for (int i = 0; i < 400; ++i) {
      if (logged("start of service")) return "";
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "unbound exited at start; see " + dir_ + "/unbound.log";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return "unbound did not start on port " + std::to_string(port_) + "; see " + dir_ + "/unbound.log";
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::uint16_t port() const { return port_; }

 private:
  // Counts only this run's lines: the log is appended to across restarts.
  bool logged(const std::string& what) {
    std::ifstream f(dir_ + "/unbound.log");
    std::string line;
    std::size_t seen = 0;
    while (std::getline(f, line))
      if (line.find(what) != std::string::npos) ++seen;
    return seen > starts_seen_ ? (starts_seen_ = seen, true) : false;
  }

  void write_config() {
    std::ofstream f(dir_ + "/unbound.conf");
    f << "server:\n"
      << "  interface: 127.0.0.1\n  port: " << port_ << "\n"
      << "  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  pidfile: \"\"\n"
      << "  directory: \"" << dir_ << "\"\n  use-syslog: no\n  logfile: \"\"\n  verbosity: 1\n"
      << "  num-threads: 1\n  do-ip6: no\n  so-reuseport: no\n  module-config: \"iterator\"\n"
      << "  access-control: 127.0.0.0/8 allow\n"
      << "  local-zone: \"test.\" refuse\n";  // anything else under test. never recurses
    for (const auto& o : extra_) f << "  " << o << "\n";
    for (const auto& z : zones_) f << "  local-zone: \"" << z << "\" static\n";
    for (const auto& r : records_) f << "  local-data: '" << r << "'\n";
    f << "remote-control:\n  control-enable: no\n";
  }

  std::vector<std::string> zones_;
  std::vector<std::string> records_;
  std::vector<std::string> extra_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::size_t starts_seen_ = 0;
};

}  // namespace sluice::filters::testing
