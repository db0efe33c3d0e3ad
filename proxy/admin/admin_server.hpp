#pragma once
// The admin HTTP listener: /healthz, /readyz, /metrics for the platform that runs the
// proxy (Kubernetes probes, Prometheus). It has its own thread and io_context, so a
// scrape never takes time from a worker and a busy worker never fails a probe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace djproxy::admin {

class Metrics;

struct Readiness {
  bool ready = false;
  std::string reason;  // when not ready: said in the 503 body
  // When ready but degraded (the audit log cannot be written): said in the 200 body,
  // "ready (NOTE)". Traffic still flows, so load balancers keep sending it.
  std::string note;
};

struct AdminOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port, see AdminServer::port()
  // /readyz also needs a TCP connection to this to succeed; empty host: no check.
  std::string backend_host;
  std::uint16_t backend_port = 0;
  std::chrono::milliseconds backend_timeout{500};
  // Probes come every few seconds from every kubelet and load balancer; one backend
  // connection per second is plenty and keeps the server's connection log quiet.
  std::chrono::milliseconds backend_cache{1000};
  // Per request, from the first byte to the last: a slow client cannot hold a slot.
  std::chrono::milliseconds read_timeout{5000};
  std::size_t max_request_bytes = 8192;  // header and body each
  std::size_t max_connections = 64;
};

class AdminServer {
 public:
  // Called on the admin thread for every /readyz: must be thread-safe and quick.
  // Empty: the proxy itself is always ready (only the backend check counts).
  using ReadinessCheck = std::function<Readiness()>;

  AdminServer(AdminOptions options, const Metrics& metrics, ReadinessCheck readiness = {});
  ~AdminServer();  // stops
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and listens on the calling thread, so a taken port fails here
  // (boost::system::system_error), then serves on the admin thread.
  void start();
  // Closes the listener and every admin connection, joins the thread. Idempotent;
  // from any thread but the admin thread.
  void stop();
  // The bound port; meaningful after start().
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace djproxy::admin
