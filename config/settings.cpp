#include "config/settings.hpp"

#include <stdexcept>
#include <utility>

namespace djproxy::config {
namespace {

template <class T>
T get(const std::vector<Entry>& entries, std::size_t index, T fallback = {}) {
  if (const auto* v = std::get_if<T>(&entries.at(index).value)) return *v;
  return fallback;
}

std::optional<std::string> optional_text(const std::vector<Entry>& entries, std::size_t index) {
  if (const auto* v = std::get_if<std::string>(&entries.at(index).value)) return *v;
  return std::nullopt;
}

std::optional<std::filesystem::path> optional_path(const std::vector<Entry>& entries, std::size_t index) {
  if (auto text = optional_text(entries, index)) return std::filesystem::path(*text);
  return std::nullopt;
}

std::uint16_t port_of(const std::vector<Entry>& entries, std::size_t index) {
  return static_cast<std::uint16_t>(get<std::int64_t>(entries, index));
}

}  // namespace

Settings::Settings(std::vector<Entry> entries, Sources sources, std::vector<std::string> warnings)
    : entries_(std::move(entries)), sources_(std::move(sources)), warnings_(std::move(warnings)) {
  if (entries_.size() != kDescriptors.size()) throw std::invalid_argument("Settings: one entry per descriptor");
  const auto& e = entries_;

  listen_ = get<Endpoint>(e, index_of("listen"));
  admin_listen_ = get<Endpoint>(e, index_of("admin_listen"));
  backend_ = get<Endpoint>(e, index_of("backend.host"));
  backend_.port = port_of(e, index_of("backend.port"));
  environment_ = get<std::string>(e, index_of("env")) == "production" ? Environment::production
                                                                       : Environment::development;
  threads_ = static_cast<unsigned>(get<std::int64_t>(e, index_of("threads")));

  database_.server = get<Endpoint>(e, index_of("database.host"));
  database_.server.port = port_of(e, index_of("database.port"));
  database_.user = get<std::string>(e, index_of("database.user"));
  database_.password = get<std::string>(e, index_of("database.password"));
  database_.create_tables = get<bool>(e, index_of("database.create_tables"), true);
  database_.schema_prefix = optional_text(e, index_of("database.schema_prefix"));
  if (const auto* b = std::get_if<bool>(&e[index_of("database.use_tls")].value)) database_.use_tls = *b;

  const auto client_mode = get<std::string>(e, index_of("client_tls.mode"));
  client_tls_.mode = client_mode == "off"        ? ClientTlsMode::off
                     : client_mode == "required" ? ClientTlsMode::required
                                                 : ClientTlsMode::preferred;
  client_tls_.cert = optional_path(e, index_of("client_tls.cert"));
  client_tls_.key = optional_path(e, index_of("client_tls.key"));

  const auto backend_mode = get<std::string>(e, index_of("backend_tls.mode"));
  backend_tls_.mode = backend_mode == "off"               ? BackendTlsMode::off
                      : backend_mode == "required"        ? BackendTlsMode::required
                      : backend_mode == "verify-ca"       ? BackendTlsMode::verify_ca
                      : backend_mode == "verify-identity" ? BackendTlsMode::verify_identity
                                                          : BackendTlsMode::preferred;
  backend_tls_.ca = optional_path(e, index_of("backend_tls.ca"));
  backend_tls_.cert = optional_path(e, index_of("backend_tls.cert"));
  backend_tls_.key = optional_path(e, index_of("backend_tls.key"));

  timeouts_.connect = get<Duration>(e, index_of("timeouts.connect"));
  timeouts_.handshake = get<Duration>(e, index_of("timeouts.handshake"));
  timeouts_.idle = get<Duration>(e, index_of("timeouts.idle"));
  timeouts_.shutdown_grace = get<Duration>(e, index_of("timeouts.shutdown_grace"));

  limits_.max_connections = static_cast<std::uint32_t>(get<std::int64_t>(e, index_of("limits.max_connections")));
  limits_.max_handshakes = static_cast<std::uint32_t>(get<std::int64_t>(e, index_of("limits.max_handshakes")));
  limits_.max_statement_bytes =
      static_cast<std::uint64_t>(get<std::int64_t>(e, index_of("limits.max_statement_bytes")));

  policy_.mode = get<std::string>(e, index_of("policy.mode")) == "dry-run" ? PolicyMode::dry_run : PolicyMode::enforce;
  policy_.production = !database_.create_tables;
  policy_.schema_prefix = database_.schema_prefix;
  policy_.temporary_tables = get<bool>(e, index_of("policy.temporary_tables"), true);
  policy_.bookkeeping_tables = get<bool>(e, index_of("policy.bookkeeping_tables"), true);
  policy_.server_files = get<bool>(e, index_of("policy.server_files"), false);
  policy_.lower_case_table_names = static_cast<int>(get<std::int64_t>(e, index_of("policy.lower_case_table_names")));
  policy_.extra_readable_schemas = get<std::vector<std::string>>(e, index_of("policy.extra_readable_schemas"));

  migration_.users = get<std::vector<std::string>>(e, index_of("migration.users"));
  migration_.key = get<std::string>(e, index_of("migration.key"));
  migration_.public_key = optional_path(e, index_of("migration.public_key"));
  migration_.private_key = optional_path(e, index_of("migration.private_key"));
  migration_.max_token_ttl = get<Duration>(e, index_of("migration.max_token_ttl"));

  audit_.log = get<std::string>(e, index_of("audit.log"), "-");
  audit_.rotate_size = static_cast<std::uint64_t>(get<std::int64_t>(e, index_of("audit.rotate_size")));
  audit_.rotate_count = static_cast<std::uint32_t>(get<std::int64_t>(e, index_of("audit.rotate_count")));
  audit_.events = get<std::vector<std::string>>(e, index_of("audit.events"));
  audit_.all_statements = get<bool>(e, index_of("audit.all_statements"));
  audit_.statement_max_length =
      static_cast<std::uint32_t>(get<std::int64_t>(e, index_of("audit.statement_max_length")));

  safemode_ = get<bool>(e, index_of("safemode"), true);
  loglevel_ = get<std::string>(e, index_of("loglevel"), "INFO");
}

const Entry& Settings::entry(std::string_view key) const {
  auto i = find_index(key);
  if (!i) throw std::out_of_range("unknown setting " + std::string(key));
  return entries_[*i];
}

std::string Settings::display(std::size_t index) const {
  const auto& entry = entries_.at(index);
  if (!entry.is_set()) return {};
  if (kDescriptors[index].secret) return "***";
  return format_value(kDescriptors[index], entry.value);
}

std::string Settings::display(std::string_view key) const {
  auto i = find_index(key);
  if (!i) throw std::out_of_range("unknown setting " + std::string(key));
  return display(*i);
}

std::string_view to_string(Environment e) { return e == Environment::production ? "production" : "development"; }

std::string_view to_string(ClientTlsMode m) {
  switch (m) {
    case ClientTlsMode::off: return "off";
    case ClientTlsMode::preferred: return "preferred";
    case ClientTlsMode::required: return "required";
  }
  return "?";
}

std::string_view to_string(BackendTlsMode m) {
  switch (m) {
    case BackendTlsMode::off: return "off";
    case BackendTlsMode::preferred: return "preferred";
    case BackendTlsMode::required: return "required";
    case BackendTlsMode::verify_ca: return "verify-ca";
    case BackendTlsMode::verify_identity: return "verify-identity";
  }
  return "?";
}

std::string_view to_string(PolicyMode m) { return m == PolicyMode::dry_run ? "dry-run" : "enforce"; }

}  // namespace djproxy::config
