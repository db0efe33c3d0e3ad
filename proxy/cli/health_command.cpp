#include "proxy/cli/health_command.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <variant>

#include "config/value.hpp"
#include "proxy/cli/config_command.hpp"

namespace djproxy::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// A wildcard listen address is not one to connect to: the listener is on this host.
std::string connect_host(const config::Endpoint& e) {
  if (!config::is_wildcard_host(e.host)) return e.host;
  return e.host.find(':') != std::string::npos ? "::1" : "127.0.0.1";
}

struct Answer {
  unsigned status = 0;
  std::string body;
  std::string error;  // set when there is no answer
};

// One request under one deadline for all of it: a probe must never hang the
// orchestrator's check, whatever the listener does.
Answer probe(const config::Endpoint& admin, const std::string& target, std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::connection, "close");
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  Answer answer;
  asio::ip::tcp::resolver resolver(io);
  stream.expires_after(timeout);
  resolver.async_resolve(connect_host(admin), std::to_string(admin.port), [&](beast::error_code ec, auto results) {
    if (ec) return void(answer.error = "resolve: " + ec.message());
    stream.async_connect(results, [&](beast::error_code ec, const auto&) {
      if (ec) return void(answer.error = "connect: " + ec.message());
      http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
        if (ec) return void(answer.error = "send: " + ec.message());
        http::async_read(stream, buffer, res, [&](beast::error_code ec, std::size_t) {
          if (ec) return void(answer.error = "answer: " + ec.message());
          answer.status = res.result_int();
          answer.body = res.body();
        });
      });
    });
  });
  // The resolver has no deadline of its own; the stream's covers the rest.
  io.run_for(timeout + std::chrono::milliseconds(100));
  if (answer.status == 0 && answer.error.empty()) answer.error = "no answer in time";
  return answer;
}

}  // namespace

int run_health_command(const config::LoadOptions& options, const HealthRequest& request, std::ostream& out,
                       std::ostream& err) {
  config::Endpoint admin;
  if (!request.admin.empty()) {
    auto parsed = config::parse_host_port(request.admin, true);
    if (const auto* problem = std::get_if<std::string>(&parsed)) {
      err << "djproxy health: --admin: " << *problem << "\n";
      return 1;
    }
    admin = std::get<config::Endpoint>(parsed);
  } else {
    auto result = config::load(options);
    if (!result.ok()) {
      for (const auto& error : result.errors) err << "djproxy health: " << error << "\n";
      return 1;
    }
    admin = result.settings->admin_listen();
  }
  if (!(request.timeout > 0)) {
    err << "djproxy health: --timeout must be positive\n";
    return 1;
  }
  const std::string target = request.ready ? "/readyz" : "/healthz";
  const auto timeout = std::chrono::milliseconds(static_cast<long long>(request.timeout * 1000));
  const Answer a = probe(admin, target, timeout);
  const std::string where = admin.to_string() + target;
  if (!a.error.empty()) {
    err << "djproxy health: " << where << ": " << a.error << "\n";
    return 1;
  }
  if (a.status != 200) {
    err << "djproxy health: " << where << ": " << a.status << " " << a.body;
    return 1;
  }
  out << where << ": " << a.body;
  return 0;
}

void add_health_command(CLI::App& app) {
  auto request = std::make_shared<HealthRequest>();
  auto* health = app.add_subcommand(
      "health", "Ask a running proxy's admin listener: exit 0 when /healthz (or /readyz) answers 200, else 1");
  health->add_flag("--ready", request->ready, "Ask /readyz (backend reachable too) instead of /healthz");
  health->add_option("--admin", request->admin, "Admin listener to ask (default: admin_listen from the settings)")
      ->type_name("HOST:PORT");
  health->add_option("--timeout", request->timeout, "Seconds for the whole probe (default 3)")->type_name("SECONDS");
  health->callback([&app, request] {
    int rc = run_health_command(load_options_from(app), *request, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace djproxy::cli
