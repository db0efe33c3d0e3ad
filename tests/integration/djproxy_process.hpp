// Test helper: spawn `djproxy serve` on free loopback ports in front of the fixture
// MariaDB, wait until it accepts, stop it at the end, and say whether it crashed.
//
// Environment set by tests/integration/CMakeLists.txt:
//   DJPROXY_IT_DB_DIR      fixture MariaDB dir (DIR/port, DIR/tls/ca.pem)
//   DJPROXY_IT_LOG_DIR     where each proxy's stderr goes (one file per process)
//   DJPROXY_IT_PROXY_BIN   the djproxy binary (else the compiled-in default, else none)
//   DJPROXY_IT_TARGET      both | direct
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace djit {

inline std::string env_or(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// DJPROXY_IT_<name> from the environment, else the value CMake compiled in.
inline std::string it_setting(const std::string& name) {
  auto v = env_or(("DJPROXY_IT_" + name).c_str());
  if (!v.empty()) return v;
#if defined(DJPROXY_IT_DEFAULT_DB_DIR)
  if (name == "DB_DIR") return DJPROXY_IT_DEFAULT_DB_DIR;
  if (name == "LOG_DIR") return DJPROXY_IT_DEFAULT_LOG_DIR;
  if (name == "TARGET") return DJPROXY_IT_DEFAULT_TARGET;
  if (name == "FIXTURES") return DJPROXY_IT_DEFAULT_FIXTURES;
#endif
  return {};
}

inline std::string db_dir() {
  auto d = it_setting("DB_DIR");
  if (d.empty()) throw std::runtime_error("DJPROXY_IT_DB_DIR is not set (run through ctest)");
  return d;
}

inline unsigned db_port() {
  std::ifstream f(db_dir() + "/port");
  unsigned p = 0;
  if (!(f >> p)) throw std::runtime_error("no port file in " + db_dir());
  return p;
}

inline std::string db_ca() { return db_dir() + "/tls/ca.pem"; }

inline std::string proxy_bin() {
#ifdef DJPROXY_IT_DEFAULT_BIN
  return env_or("DJPROXY_IT_PROXY_BIN", DJPROXY_IT_DEFAULT_BIN);
#else
  return env_or("DJPROXY_IT_PROXY_BIN");
#endif
}

// True when sessions should really go through the proxy; false: "proxy" side is direct.
inline bool through_proxy() { return it_setting("TARGET") != "direct" && !proxy_bin().empty(); }

// A port the kernel just handed out; the tiny race with other processes is acceptable.
inline unsigned free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

inline bool port_accepts(unsigned port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

class DjproxyProcess {
 public:
  DjproxyProcess() = default;
  DjproxyProcess(const DjproxyProcess&) = delete;
  DjproxyProcess& operator=(const DjproxyProcess&) = delete;
  ~DjproxyProcess() { stop(); }

  // Starts `djproxy serve`. `extra` overrides or adds environment variables; the
  // defaults point it at the fixture MariaDB with TLS off on both legs.
  void start(const std::map<std::string, std::string>& extra = {}, unsigned backend_port = 0) {
    port_ = free_port();
    admin_port_ = free_port();
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      auto eq = kv.find('=');
      std::string k = kv.substr(0, eq);
      if (k.rfind("DJ_", 0) == 0 || k.rfind("DJPROXY_", 0) == 0) continue;  // hermetic: only what we set
      env[k] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    env["DJPROXY_LISTEN"] = "127.0.0.1:" + std::to_string(port_);
    env["DJPROXY_ADMIN_LISTEN"] = "127.0.0.1:" + std::to_string(admin_port_);
    env["DJ_HOST"] = "127.0.0.1:" + std::to_string(backend_port ? backend_port : db_port());
    env["DJPROXY_CLIENT_TLS_MODE"] = "off";
    env["DJPROXY_BACKEND_TLS_MODE"] = "off";
    env["DJPROXY_THREADS"] = "2";
    // These suites prove the relay transparent: the policy decides and logs but
    // forwards everything (dry run). Enforcement has its own suites, which set enforce.
    env["DJPROXY_POLICY_MODE"] = "dry-run";
    for (auto& [k, v] : extra) env[k] = v;

    auto bin = proxy_bin();
    if (bin.empty()) throw std::runtime_error("no djproxy binary (DJPROXY_IT_PROXY_BIN)");
    auto logdir = it_setting("LOG_DIR");
    if (logdir.empty()) logdir = "/tmp";
    log_ = logdir + "/djproxy-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".log";

    std::vector<std::string> kv;
    for (auto& [k, v] : env) kv.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : kv) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string serve = "serve";
    char* argv[] = {bin.data(), serve.data(), nullptr};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    // Run in the log dir so no datajoint.json / djproxy.toml of the caller's cwd is read.
    posix_spawn_file_actions_addchdir_np(&fa, logdir.c_str());
    int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawn " + bin + " failed: " + std::to_string(rc));

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!alive()) throw std::runtime_error("djproxy exited during start-up; log:\n" + log_tail());
      if (port_accepts(port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("djproxy did not listen on " + std::to_string(port_) + " within 15 s; log:\n" + log_tail());
  }

  unsigned port() const { return port_; }
  unsigned admin_port() const { return admin_port_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_; }

  // Still running (reaps it and records the status if it has exited).
  bool alive() {
    if (pid_ <= 0) return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == 0) return true;
    if (r == pid_) {
      status_ = st;
      pid_ = -1;
    }
    return false;
  }

  // SIGTERM, then SIGKILL after 10 s. Returns a description of how it ended:
  // "clean" (exit 0 or by SIGTERM) or what went wrong (crash signal, exit code).
  std::string stop() {
    if (pid_ > 0 && alive()) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 500 && alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        status_ = st;
        pid_ = -1;
        return "did not exit within 10 s of SIGTERM";
      }
    }
    return describe();
  }

  std::string describe() const {
    if (status_ < 0) return "never started";
    if (WIFEXITED(status_)) return WEXITSTATUS(status_) == 0 ? "clean" : "exit code " + std::to_string(WEXITSTATUS(status_));
    if (WIFSIGNALED(status_)) return WTERMSIG(status_) == SIGTERM ? "clean" : "killed by signal " + std::to_string(WTERMSIG(status_));
    return "unknown status";
  }

  std::string log_tail(size_t max_bytes = 4000) const {
    std::ifstream f(log_, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    auto s = ss.str();
    return s.size() > max_bytes ? "..." + s.substr(s.size() - max_bytes) : s;
  }

  // Established TCP connections this process holds to 127.0.0.1:port (its backend legs),
  // from /proc/PID/fd socket inodes matched against /proc/net/tcp.
  int connections_to(unsigned port) const {
    if (pid_ <= 0) return -1;
    std::set<std::string> inodes;
    std::string fd_dir = "/proc/" + std::to_string(pid_) + "/fd";
    for (const auto& e : std::filesystem::directory_iterator(fd_dir, std::filesystem::directory_options::skip_permission_denied)) {
      std::error_code ec;
      auto target = std::filesystem::read_symlink(e.path(), ec).string();
      if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
    }
    std::ifstream tcp("/proc/net/tcp");
    std::string line;
    std::getline(tcp, line);  // header
    int n = 0;
    char want[16];
    std::snprintf(want, sizeof want, "0100007F:%04X", port);
    while (std::getline(tcp, line)) {
      std::istringstream in(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      in >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (remote == want && state == "01" && inodes.count(inode)) ++n;
    }
    return n;
  }

  // Peak resident set (kB) from /proc/PID/status VmHWM; 0 when unknown.
  long peak_rss_kb() const {
    if (pid_ <= 0) return 0;
    std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  unsigned port_ = 0;
  unsigned admin_port_ = 0;
  std::string log_;
};

}  // namespace djit
