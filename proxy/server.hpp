#pragma once
// The proxy process: one worker per thread, and the main thread waiting for signals.
#include <memory>
#include <vector>

#include "proxy/options.hpp"

namespace djproxy::proxy {

class Worker;
struct SharedState;

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  // Serves until SIGINT or SIGTERM, then stops accepting, lets sessions finish for
  // the grace period, closes the rest and returns.
  void run();

 private:
  std::unique_ptr<SharedState> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace djproxy::proxy
