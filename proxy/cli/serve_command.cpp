#include "proxy/cli/serve_command.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

#include "config/loader.hpp"
#include "config/reload.hpp"
#include "proxy/cli/config_command.hpp"
#include "policy/types.hpp"
#include "proxy/server.hpp"
#include "proxy/tls.hpp"

namespace djproxy::cli {
namespace {

proxy::ServerOptions server_options(const config::Settings& s) {
  proxy::ServerOptions o;
  o.listen = {s.listen().host, s.listen().port};
  o.admin_listen = {s.admin_listen().host, s.admin_listen().port};
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
  o.max_handshakes = s.limits().max_handshakes;
  return o;
}

// DataJoint's names (DEBUG, INFO, WARNING, ERROR, CRITICAL), any case.
spdlog::level::level_enum log_level(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "warning") return spdlog::level::warn;
  if (name.empty()) return spdlog::level::info;
  return spdlog::level::from_str(name);
}

audit::AuditOptions audit_options(const config::AuditSettings& a) {
  audit::AuditOptions o;
  o.path = a.log;
  o.rotate_size = a.rotate_size;
  o.rotate_count = a.rotate_count;
  o.events = a.events;
  o.all_statements = a.all_statements;
  o.statement_max_length = a.statement_max_length;
  return o;
}

bool same_audit(const config::AuditSettings& a, const config::AuditSettings& b) {
  return a.log == b.log && a.rotate_size == b.rotate_size && a.rotate_count == b.rotate_count &&
         a.events == b.events && a.all_statements == b.all_statements &&
         a.statement_max_length == b.statement_max_length;
}

// `previous`: the running snapshot and its settings, so that a reload that leaves the
// audit settings alone keeps the same log (no reopen, nothing lost in between).
std::shared_ptr<const proxy::PolicyRuntime> policy_runtime(
    const config::Settings& s, const proxy::PolicyRuntime* previous = nullptr,
    const config::Settings* previous_settings = nullptr) {
  auto r = std::make_shared<proxy::PolicyRuntime>();
  if (previous && previous_settings && same_audit(previous_settings->audit(), s.audit())) {
    r->audit = previous->audit;
  } else {
    r->audit = audit::AuditLog::open(audit_options(s.audit()));
  }
  r->config = policy_config(s);
  r->migration_users = s.migration().users;
  r->migration_key = s.migration().key;
  // Read at start and on reload only; a key that does not load stops the start
  // (or refuses the reload) rather than leaving tokens unverifiable.
  if (const auto& path = s.migration().public_key) {
    r->migration_public_key = std::make_shared<const migration::Ed25519Key>(
        migration::Ed25519Key::from_public_pem(migration::read_key_file(path->string())));
  }
  r->max_token_ttl = std::chrono::duration_cast<std::chrono::seconds>(s.migration().max_token_ttl);
  r->max_statement_bytes = s.limits().max_statement_bytes;
  return r;
}

}  // namespace

policy::PolicyConfig policy_config(const config::Settings& s) {
  const auto& p = s.policy();
  policy::PolicyConfig c;
  c.create_tables = !p.production;
  c.schema_prefix = p.schema_prefix.value_or("");
  c.mode = p.mode == config::PolicyMode::dry_run ? policy::Mode::dry_run : policy::Mode::enforce;
  c.allow_temporary_tables = p.temporary_tables;
  c.allow_bookkeeping_tables = p.bookkeeping_tables;
  c.allow_server_files = p.server_files;
  c.lower_case_table_names = p.lower_case_table_names;
  c.extra_readable_schemas = p.extra_readable_schemas;
  return c;
}

void add_serve_command(CLI::App& app) {
  auto* serve = app.add_subcommand("serve", "Run the proxy (settings: see `djproxy config`)");
  serve->callback([&app] {
    auto result = config::load(load_options_from(app));
    for (const auto& warning : result.warnings) spdlog::warn("config: {}", warning);
    if (!result.ok()) {
      for (const auto& error : result.errors) std::cerr << "djproxy: " << error << "\n";
      throw CLI::RuntimeError(2);
    }
    const auto& settings = *result.settings;
    spdlog::set_level(log_level(settings.loglevel()));
    std::shared_ptr<const config::Settings> current = result.settings;
    std::shared_ptr<const proxy::PolicyRuntime> runtime;
    try {
      runtime = policy_runtime(settings);
    } catch (const std::exception& e) {
      spdlog::critical("cannot start: {}", e.what());
      throw CLI::RuntimeError(1);
    }
    auto reload = [&app, &current, &runtime]() -> proxy::Server::Reloaded {
      auto plan = config::reload(*current, load_options_from(app));
      for (const auto& warning : plan.warnings) spdlog::warn("config: {}", warning);
      if (!plan.accepted()) {
        for (const auto& error : plan.errors) spdlog::error("reload refused, settings unchanged: {}", error);
        return {};
      }
      for (const auto& change : plan.needing_restart()) {
        spdlog::warn("reload: {} changed ('{}' -> '{}') but takes effect only after a restart", change.key,
                     change.before, change.after);
      }
      for (const auto& change : plan.changes) {
        spdlog::info("reload: {} '{}' -> '{}'", change.key, change.before, change.after);
      }
      try {
        // TLS files are loaded here too, so a reload the server would refuse is refused
        // before this side takes the new settings for its own.
        auto options = server_options(*plan.next);
        proxy::make_tls_contexts(options);
        auto next = policy_runtime(*plan.next, runtime.get(), current.get());
        current = plan.next;
        runtime = next;
        return {next, std::move(options)};
      } catch (const std::exception& e) {
        spdlog::error("reload refused, settings unchanged: {}", e.what());
        return {};
      }
    };
    try {
      proxy::Server server(server_options(settings), runtime, reload);
      server.run();
    } catch (const std::exception& e) {
      spdlog::critical("cannot serve: {}", e.what());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace djproxy::cli
