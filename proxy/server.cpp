#include "proxy/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>

#include "proxy/admin/admin_server.hpp"
#include "proxy/shared_state.hpp"
#include "proxy/worker.hpp"

namespace djproxy::proxy {

Server::Server(ServerOptions options, std::shared_ptr<const PolicyRuntime> policy, Reload reload)
    : shared_(std::make_unique<SharedState>()), reload_(std::move(reload)) {
  shared_->connection.replace(ConnectionSettings::make(std::move(options)));
  shared_->policy.replace(std::move(policy));
  const auto& listen = shared_->connection.get()->options.listen;
  const tcp::endpoint endpoint(asio::ip::make_address(listen.host), listen.port);
  unsigned threads = shared_->connection.get()->options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<Worker*> all;
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(*shared_));
    all.push_back(workers_.back().get());
  }
  workers_.front()->listen(endpoint, std::move(all));
}

Server::~Server() = default;

namespace {
void audit_lifecycle(const PolicyRuntime& runtime, audit::Event event, std::string_view message) {
  if (!runtime.audit) return;
  audit::AuditEvent e(event);
  e.message = message;
  runtime.audit->write(e);
}
}  // namespace

void Server::run() {
  const auto started_with = shared_->connection.get();
  const auto& o = started_with->options;
  shared_->metrics.set_audit(shared_->policy.get()->audit.get());
  shared_->metrics.set_limits(o.max_connections, o.max_handshakes);
  std::unique_ptr<admin::AdminServer> admin_server;
  if (o.admin_listen.port != 0) {
    admin::AdminOptions admin_options;
    admin_options.host = o.admin_listen.host;
    admin_options.port = o.admin_listen.port;
    admin_options.backend_host = o.backend.host;
    admin_options.backend_port = o.backend.port;
    // Ready: the settings loaded (we are running) and the backend accepts connections.
    // The audit log is read from the current rules, so a reload that moves it counts.
    auto readiness = [shared = shared_.get()]() {
      admin::Readiness r{true, {}, {}};
      const auto policy = shared->policy.get();
      if (policy->audit) {
        const std::string problem = policy->audit->problem();
        if (!problem.empty()) r.note = "audit log degraded: " + problem;
      }
      return r;
    };
    admin_server = std::make_unique<admin::AdminServer>(admin_options, shared_->metrics, readiness);
    admin_server->start();
  }
  for (auto& worker : workers_) worker->start();
  audit_lifecycle(*shared_->policy.get(), audit::Event::startup,
                  fmt::format("listening on {}:{}, backend {}:{}", o.listen.host, o.listen.port, o.backend.host,
                              o.backend.port));
  spdlog::info("djproxy listening on {}:{}, backend {}:{}, {} worker thread(s)", o.listen.host, o.listen.port,
               o.backend.host, o.backend.port, workers_.size());

  asio::io_context control;
  asio::signal_set stop_signals(control, SIGINT, SIGTERM);
  asio::signal_set reload_signal(control, SIGHUP);
  int received = 0;
  stop_signals.async_wait([&](const ErrorCode&, int signal) {
    received = signal;
    control.stop();
  });
  std::function<void(const ErrorCode&, int)> on_reload = [&](const ErrorCode& ec, int) {
    if (ec) return;
    if (reload_) {
      auto next = reload_();
      std::shared_ptr<const ConnectionSettings> connection;
      if (next.policy) {
        try {
          connection = ConnectionSettings::make(next.options, shared_->connection.get().get());
        } catch (const std::exception& e) {
          spdlog::error("reload refused, settings unchanged: {}", e.what());
        }
      }
      if (connection) {
        shared_->metrics.set_audit(next.policy->audit.get());
        shared_->metrics.set_limits(connection->options.max_connections, connection->options.max_handshakes);
        audit_lifecycle(*next.policy, audit::Event::config_reload, "SIGHUP: settings reloaded");
        shared_->connection.replace(std::move(connection));
        shared_->policy.replace(std::move(next.policy));
        spdlog::info("SIGHUP: settings reloaded; new statements and connections use them");
      } else {
        audit_lifecycle(*shared_->policy.get(), audit::Event::config_reload,
                        "SIGHUP: reload refused, settings unchanged (see the proxy log)");
      }
    }
    reload_signal.async_wait(on_reload);
  };
  reload_signal.async_wait(on_reload);
  control.run();

  auto sessions = [&] {
    std::size_t n = 0;
    for (auto& w : workers_) n += w->session_count();
    return n;
  };
  const auto grace = shared_->connection.get()->options.shutdown_grace;
  spdlog::info("signal {}: no new connections; closing idle sessions, waiting up to {} ms for the commands of {} "
               "session(s)",
               received, grace.count(), sessions());
  for (auto& worker : workers_) worker->stop_accepting();
  // Idle sessions close now, busy ones once their command is answered: the wait below
  // ends as soon as nothing runs, not when the grace period does.
  for (auto& worker : workers_) worker->drain_sessions();
  const auto give_up = std::chrono::steady_clock::now() + grace;
  while (sessions() > 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (const std::size_t left = sessions(); left > 0) {
    spdlog::warn("grace period over: closing {} session(s)", left);
    for (auto& worker : workers_) worker->abort_sessions();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& worker : workers_) worker->stop();
  for (auto& worker : workers_) worker->join();
  if (admin_server) admin_server->stop();
  const auto runtime = shared_->policy.get();
  audit_lifecycle(*runtime, audit::Event::shutdown, fmt::format("signal {}", received));
  shared_->metrics.set_audit(nullptr);
  if (runtime->audit) runtime->audit->flush();
  spdlog::info("djproxy stopped");
}

}  // namespace djproxy::proxy
