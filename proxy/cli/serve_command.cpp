#include "proxy/cli/serve_command.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

#include "config/loader.hpp"
#include "proxy/cli/global_options.hpp"
#include "proxy/server.hpp"

namespace djproxy::cli {
namespace {

proxy::ServerOptions server_options(const config::Settings& s) {
  proxy::ServerOptions o;
  o.listen = {s.listen().host, s.listen().port};
  o.backend = {s.backend().host, s.backend().port};
  o.threads = s.threads();
  switch (s.client_tls().mode) {
    case config::ClientTlsMode::off: o.client_tls = proxy::ClientTlsMode::kOff; break;
    case config::ClientTlsMode::preferred: o.client_tls = proxy::ClientTlsMode::kPreferred; break;
    case config::ClientTlsMode::required: o.client_tls = proxy::ClientTlsMode::kRequired; break;
  }
  switch (s.backend_tls().mode) {
    case config::BackendTlsMode::off: o.backend_tls = proxy::BackendTlsMode::kOff; break;
    case config::BackendTlsMode::preferred: o.backend_tls = proxy::BackendTlsMode::kPreferred; break;
    case config::BackendTlsMode::required: o.backend_tls = proxy::BackendTlsMode::kRequired; break;
    case config::BackendTlsMode::verify_ca: o.backend_tls = proxy::BackendTlsMode::kVerifyCa; break;
    case config::BackendTlsMode::verify_identity: o.backend_tls = proxy::BackendTlsMode::kVerifyIdentity; break;
  }
  auto path = [](const std::optional<std::filesystem::path>& p) { return p ? p->string() : std::string(); };
  o.client_tls_cert = path(s.client_tls().cert);
  o.client_tls_key = path(s.client_tls().key);
  o.backend_tls_ca = path(s.backend_tls().ca);
  o.backend_tls_cert = path(s.backend_tls().cert);
  o.backend_tls_key = path(s.backend_tls().key);
  o.connect_timeout = s.timeouts().connect;
  o.handshake_timeout = s.timeouts().handshake;
  o.idle_timeout = s.timeouts().idle;
  o.shutdown_grace = s.timeouts().shutdown_grace;
  o.max_connections = s.limits().max_connections;
  return o;
}

// DataJoint's names (DEBUG, INFO, WARNING, ERROR, CRITICAL), any case.
spdlog::level::level_enum log_level(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "warning") return spdlog::level::warn;
  if (name.empty()) return spdlog::level::info;
  return spdlog::level::from_str(name);
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto* serve = app.add_subcommand("serve", "Run the proxy (settings: see `djproxy config`)");
  serve->callback([&app] {
    auto result = config::load(load_options(app));
    for (const auto& warning : result.warnings) spdlog::warn("config: {}", warning);
    if (!result.ok()) {
      for (const auto& error : result.errors) std::cerr << "djproxy: " << error << "\n";
      throw CLI::RuntimeError(2);
    }
    const auto& settings = *result.settings;
    spdlog::set_level(log_level(settings.loglevel()));
    try {
      proxy::Server server(server_options(settings));
      server.run();
    } catch (const std::exception& e) {
      spdlog::critical("cannot serve: {}", e.what());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace djproxy::cli
