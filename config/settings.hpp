#pragma once
// The effective settings: immutable once built, shared as shared_ptr<const Settings>,
// read by the relay through the typed views and by `djproxy config` through entries.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/descriptors.hpp"
#include "config/value.hpp"

namespace djproxy::config {

// Where a value came from, in increasing precedence (derived values sit apart).
enum class Layer { unset, default_value, datajoint_json, toml, secrets, env, derived };

struct Origin {
  Layer layer = Layer::unset;
  // Human-readable: "default", "env DJ_HOST", "datajoint.json:3", "djproxy.toml:12",
  // ".secrets/database.user", "file $DJ_PASS_FILE", "from database.host, env DJ_HOST".
  std::string text;
};

struct Entry {
  Value value;
  Origin origin;
  bool is_set() const { return !std::holds_alternative<std::monostate>(value); }
};

// The files the settings were read from; empty path: none.
struct Sources {
  std::filesystem::path toml;
  std::filesystem::path datajoint_json;
  std::filesystem::path secrets_dir;
};

enum class Environment { development, production };
enum class ClientTlsMode { off, preferred, required };
enum class BackendTlsMode { off, preferred, required, verify_ca, verify_identity };
enum class PolicyMode { enforce, dry_run };

struct DatabaseSettings {
  Endpoint server;  // database.host with its effective port
  std::string user;
  std::string password;
  bool create_tables = true;
  std::optional<std::string> schema_prefix;
  std::optional<bool> use_tls;
};

struct ClientTls {
  ClientTlsMode mode = ClientTlsMode::preferred;
  std::optional<std::filesystem::path> cert;  // both unset: generate a self-signed one
  std::optional<std::filesystem::path> key;
};

struct BackendTls {
  BackendTlsMode mode = BackendTlsMode::preferred;
  std::optional<std::filesystem::path> ca;
  std::optional<std::filesystem::path> cert;
  std::optional<std::filesystem::path> key;
};

struct Timeouts {
  Duration connect{};
  Duration handshake{};
  Duration idle{};  // 0: none
  Duration shutdown_grace{};
};

struct Limits {
  std::uint32_t max_connections = 0;
  std::uint32_t max_handshakes = 0;
  std::uint64_t max_statement_bytes = 0;
};

struct PolicySettings {
  PolicyMode mode = PolicyMode::enforce;
  bool production = false;  // database.create_tables == false
  std::optional<std::string> schema_prefix;
  bool temporary_tables = true;
  bool bookkeeping_tables = true;
  bool server_files = false;
  int lower_case_table_names = 0;
  std::vector<std::string> extra_readable_schemas;
};

struct MigrationSettings {
  std::vector<std::string> users;
  std::string key;  // empty: HMAC tokens are refused
  std::optional<std::filesystem::path> public_key;   // Ed25519, verifies
  std::optional<std::filesystem::path> private_key;  // Ed25519, signs (token issue only)
  Duration max_token_ttl{};
};

struct AuditSettings {
  std::string log;  // a path, or "-" for stdout
  std::uint64_t rotate_size = 0;
  std::uint32_t rotate_count = 0;
  std::vector<std::string> events;
  bool all_statements = false;
  std::uint32_t statement_max_length = 0;  // 0: whole statement
};

class Settings {
 public:
  // entries: one per kDescriptors element, in that order, already typed.
  Settings(std::vector<Entry> entries, Sources sources, std::vector<std::string> warnings = {});

  // ---- typed views, for the relay -------------------------------------------------
  const Endpoint& listen() const { return listen_; }
  const Endpoint& admin_listen() const { return admin_listen_; }
  const Endpoint& backend() const { return backend_; }  // backend.* or else database.*
  Environment environment() const { return environment_; }
  unsigned threads() const { return threads_; }  // 0: one per core
  const DatabaseSettings& database() const { return database_; }
  const ClientTls& client_tls() const { return client_tls_; }
  const BackendTls& backend_tls() const { return backend_tls_; }
  const Timeouts& timeouts() const { return timeouts_; }
  const Limits& limits() const { return limits_; }
  const PolicySettings& policy() const { return policy_; }
  const MigrationSettings& migration() const { return migration_; }
  const AuditSettings& audit() const { return audit_; }
  bool safemode() const { return safemode_; }
  const std::string& loglevel() const { return loglevel_; }

  // ---- generic views, for `config`, `check` and reload ------------------------------
  // By key or alias key; throws std::out_of_range for an unknown key.
  const Entry& entry(std::string_view key) const;
  const Entry& entry(std::size_t index) const { return entries_.at(index); }
  const std::vector<Entry>& entries() const { return entries_; }
  // The value as `djproxy config` prints it: secrets as ***, unset as "".
  std::string display(std::size_t index) const;
  std::string display(std::string_view key) const;
  const Sources& sources() const { return sources_; }
  // Things worth saying that do not stop the proxy (e.g. DataJoint would read a value differently).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::vector<Entry> entries_;
  Sources sources_;
  std::vector<std::string> warnings_;

  Endpoint listen_;
  Endpoint admin_listen_;
  Endpoint backend_;
  Environment environment_ = Environment::development;
  unsigned threads_ = 0;
  DatabaseSettings database_;
  ClientTls client_tls_;
  BackendTls backend_tls_;
  Timeouts timeouts_;
  Limits limits_;
  PolicySettings policy_;
  MigrationSettings migration_;
  AuditSettings audit_;
  bool safemode_ = true;
  std::string loglevel_;
};

std::string_view to_string(Environment e);
std::string_view to_string(ClientTlsMode m);
std::string_view to_string(BackendTlsMode m);
std::string_view to_string(PolicyMode m);

}  // namespace djproxy::config
