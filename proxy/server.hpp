#pragma once
// The proxy process: one worker per thread, and the main thread waiting for signals.
#include <functional>
#include <memory>
#include <vector>

#include "proxy/options.hpp"
#include "proxy/policy_runtime.hpp"

namespace djproxy::proxy {

class Worker;
struct SharedState;

class Server {
 public:
  // Called on SIGHUP: the new settings, or a null policy to keep the current ones (the
  // callback says why). New statements see the new policy, new connections the new
  // connection settings; no session is dropped.
  struct Reloaded {
    std::shared_ptr<const PolicyRuntime> policy;
    ServerOptions options;
  };
  using Reload = std::function<Reloaded()>;

  Server(ServerOptions options, std::shared_ptr<const PolicyRuntime> policy, Reload reload);
  ~Server();
  // Serves until SIGINT or SIGTERM, then stops accepting, lets sessions finish for
  // the grace period, closes the rest and returns.
  void run();

 private:
  std::unique_ptr<SharedState> shared_;
  Reload reload_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace djproxy::proxy
