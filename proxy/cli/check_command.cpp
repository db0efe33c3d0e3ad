#include "proxy/cli/check_command.hpp"

#include <mysql.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>
#include <ostream>

#include "config/checks.hpp"
#include "proxy/cli/config_command.hpp"

namespace djproxy::cli {
namespace {

using config::Finding;
using Severity = Finding::Severity;

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

bool readable_file(const std::optional<std::filesystem::path>& p) {
  std::error_code ec;
  return p && std::filesystem::is_regular_file(*p, ec);
}

using SslCtx = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// Loading the files the way the relay will is the only proof that they are PEM, match, and are not encrypted.
void check_pair(std::string_view leg, const SSL_METHOD* method, const std::optional<std::filesystem::path>& cert,
                const std::optional<std::filesystem::path>& key, std::vector<Finding>& out) {
  if (!readable_file(cert) || !readable_file(key)) return;  // already reported by check_settings
  SslCtx ctx(SSL_CTX_new(method), SSL_CTX_free);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert->c_str()) != 1) {
    out.push_back({Severity::problem, std::string(leg) + ".cert: " + cert->string() + ": " + openssl_error()});
  } else if (SSL_CTX_use_PrivateKey_file(ctx.get(), key->c_str(), SSL_FILETYPE_PEM) != 1) {
    out.push_back({Severity::problem, std::string(leg) + ".key: " + key->string() + ": " + openssl_error()});
  } else if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    out.push_back({Severity::problem, std::string(leg) + ".key: " + key->string() + " does not match " +
                                          cert->string()});
  }
}

void check_tls_files(const config::Settings& s, std::vector<Finding>& out) {
  check_pair("client_tls", TLS_server_method(), s.client_tls().cert, s.client_tls().key, out);
  check_pair("backend_tls", TLS_client_method(), s.backend_tls().cert, s.backend_tls().key, out);
  const auto& ca = s.backend_tls().ca;
  if (readable_file(ca)) {
    SslCtx ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    if (SSL_CTX_load_verify_locations(ctx.get(), ca->c_str(), nullptr) != 1) {
      out.push_back({Severity::problem, "backend_tls.ca: " + ca->string() + ": " + openssl_error()});
    }
  }
}

bool starts_with(std::string_view text, std::string_view prefix, bool fold_case) {
  if (text.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), text.begin(), [fold_case](char a, char b) {
    return fold_case ? std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b))
                     : a == b;
  });
}

using Mysql = std::unique_ptr<MYSQL, decltype(&mysql_close)>;

// Logs in as the workers would, through the proxy's backend address, and reports
// what the account can see: a grant wider than the prefix deserves a warning.
void check_connection(const config::Settings& s, std::vector<Finding>& out, std::ostream& report) {
  const auto& db = s.database();
  const auto backend = s.backend();
  if (db.user.empty()) {
    out.push_back({Severity::problem, "database.user: not set; --connect needs an account (DJ_USER)"});
    return;
  }
  Mysql m(mysql_init(nullptr), mysql_close);
  if (!m) {
    out.push_back({Severity::problem, "--connect: mysql_init failed"});
    return;
  }
  unsigned int timeout = static_cast<unsigned int>(
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(s.timeouts().connect).count()));
  mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  // "localhost" would otherwise mean the Unix socket; the proxy always uses TCP.
  unsigned int protocol = MYSQL_PROTOCOL_TCP;
  mysql_options(m.get(), MYSQL_OPT_PROTOCOL, &protocol);

  const auto& tls = s.backend_tls();
  if (tls.mode != config::BackendTlsMode::off) {
    auto c = [](const std::optional<std::filesystem::path>& p) { return p ? p->c_str() : nullptr; };
    mysql_ssl_set(m.get(), c(tls.key), c(tls.cert), c(tls.ca), nullptr, nullptr);
    my_bool yes = 1;
    if (tls.mode != config::BackendTlsMode::preferred) mysql_options(m.get(), MYSQL_OPT_SSL_ENFORCE, &yes);
    // Connector/C verifies the certificate and the host name together, so verify-ca is checked as strictly as verify-identity.
    if (tls.mode == config::BackendTlsMode::verify_ca || tls.mode == config::BackendTlsMode::verify_identity) {
      mysql_options(m.get(), MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
    }
  }

  if (mysql_real_connect(m.get(), backend.host.c_str(), db.user.c_str(), db.password.c_str(), nullptr, backend.port,
                         nullptr, 0) == nullptr) {
    out.push_back({Severity::problem, "--connect: " + db.user + "@" + backend.to_string() + ": " +
                                          mysql_error(m.get())});
    return;
  }
  const char* cipher = mysql_get_ssl_cipher(m.get());
  report << "backend " << backend.to_string() << ": server " << mysql_get_server_info(m.get()) << ", "
         << (cipher != nullptr ? std::string("TLS (") + cipher + ")" : std::string("no TLS")) << ", user "
         << db.user << '\n';
  if (cipher == nullptr && tls.mode != config::BackendTlsMode::off) {
    out.push_back({Severity::warning, "backend_tls.mode (" + s.entry("backend_tls.mode").origin.text +
                                          "): preferred, but the server did not offer TLS"});
  }

  if (mysql_query(m.get(), "SHOW DATABASES") != 0) {
    out.push_back({Severity::warning, std::string("--connect: SHOW DATABASES failed: ") + mysql_error(m.get())});
    return;
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> result(mysql_store_result(m.get()), mysql_free_result);
  if (!result) return;
  const auto& prefix = db.schema_prefix;
  const bool fold = s.policy().lower_case_table_names != 0;
  const auto& extra = s.policy().extra_readable_schemas;
  std::vector<std::string> outside;
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    if (row[0] == nullptr) continue;
    std::string schema = row[0];
    if (schema == "information_schema") continue;
    if (prefix && starts_with(schema, *prefix, fold)) continue;
    if (std::find(extra.begin(), extra.end(), schema) != extra.end()) continue;
    outside.push_back(schema);
  }
  if (!prefix) {
    report << "backend: database.schema_prefix is not set, so every schema the account sees is in reach ("
           << outside.size() << ")\n";
    return;
  }
  if (!outside.empty()) {
    std::string list;
    for (const auto& schema : outside) list += (list.empty() ? "" : ", ") + schema;
    out.push_back({Severity::warning, "--connect: " + db.user + " can reach schemas outside the prefix '" + *prefix +
                                          "' (" + list + "); its grants are wider than the policy"});
  }
}

}  // namespace

int run_check_command(const config::LoadOptions& options, const CheckOptions& check, std::ostream& out) {
  auto result = config::load(options);
  if (!result.ok()) {
    for (const auto& e : result.errors) out << "error: " << e << '\n';
    for (const auto& w : result.warnings) out << "warning: " << w << '\n';
    return 1;
  }
  const auto& s = *result.settings;
  const bool production = check.production || s.environment() == config::Environment::production;
  auto findings = config::check_settings(s, production);
  check_tls_files(s, findings);
  if (check.connect) check_connection(s, findings, out);

  std::size_t problems = 0;
  for (const auto& f : findings) {
    if (f.severity == Severity::problem) {
      ++problems;
      out << "error: " << f.text << '\n';
    }
  }
  for (const auto& f : findings) {
    if (f.severity == Severity::warning) out << "warning: " << f.text << '\n';
  }
  if (problems == 0) {
    out << "ok: " << (production ? "production" : "development") << " settings, backend " << s.backend().to_string()
        << ", listen " << s.listen().to_string() << '\n';
  }
  return problems == 0 ? 0 : 1;
}

void add_check_command(CLI::App& app) {
  auto* sub = app.add_subcommand("check", "Verify the settings (and with --connect, the backend); exit 1 on problems");
  sub->add_flag("--connect")->description("Also log in to the backend as database.user");
  sub->add_flag("--production")->description("Apply the production rules (as DJPROXY_ENV=production does)");
  sub->callback([sub] {
    CheckOptions check{.connect = sub->count("--connect") > 0, .production = sub->count("--production") > 0};
    int rc = run_check_command(load_options_from(*sub), check, std::cout);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace djproxy::cli
