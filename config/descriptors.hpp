#pragma once
// The one list of settings. Loading, `djproxy config`, environment names, the
// reload classification and the README reference are all generated from it, so
// a setting is added or changed here and nowhere else.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace djproxy::config {

enum class Kind {
  string,    // free text, kept exactly as given
  path,      // a file name; `check` verifies it
  boolean,   // DataJoint's spellings: true 1 yes on t y / false 0 no off f n
  integer,   // bounded by min/max
  port,      // 1..65535
  duration,  // 500ms, 30s, 10m, 24h, 1d, 1h30m; a bare number is seconds
  bytes,     // 4096, 100MiB, 1GiB, 10MB
  host,      // host, host:port, [v6], [v6]:port — the port is optional
  endpoint,  // host:port, port required
  choice,    // one of `choices`, matched case-insensitively
  list,      // comma-separated in text sources, an array in files
};

// When a changed value takes effect after SIGHUP.
enum class Apply {
  live,             // the next statement sees it
  new_connections,  // connections opened after the reload see it
  restart,          // only a restart applies it
};

// Which layers may carry a setting at all.
enum class Scope {
  shared,   // DataJoint's own settings: datajoint.json, DJ_* variables, .secrets/
  djproxy,  // the proxy's: djproxy.toml (or datajoint.json), DJPROXY_* variables
  locator,  // names a config file, so it can only come from the environment
};

struct Descriptor {
  std::string_view key;
  std::string_view env;
  Kind kind = Kind::string;
  std::string_view default_text = {};  // parsed like any source; empty means unset
  std::string_view description = {};
  bool secret = false;
  std::string_view choices = {};  // "a|b|c" for choice, and for list elements
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::string_view alias_key = {};
  std::string_view alias_env = {};
  std::string_view secrets_file = {};  // file name in the secrets directory; empty: not read there
  Apply apply = Apply::live;
  Scope scope = Scope::djproxy;
};

inline constexpr std::int64_t kGiB = std::int64_t{1} << 30;

// clang-format off
inline constexpr std::array kDescriptors = std::to_array<Descriptor>({
  // ---- shared with DataJoint ------------------------------------------------------
  {.key = "database.host", .env = "DJ_HOST", .kind = Kind::host, .default_text = "localhost",
   .description = "MySQL server as DataJoint sees it; `host:port` carries the port, which wins over database.port. The proxy's backend when backend.host is unset.",
   .secrets_file = "database.host", .apply = Apply::new_connections, .scope = Scope::shared},
  {.key = "database.port", .env = "DJ_PORT", .kind = Kind::port, .default_text = "3306",
   .description = "Port of database.host.",
   .secrets_file = "database.port", .apply = Apply::new_connections, .scope = Scope::shared},
  {.key = "database.user", .env = "DJ_USER", .kind = Kind::string,
   .description = "Account `djproxy check --connect` logs in with (clients authenticate themselves).",
   .secrets_file = "database.user", .scope = Scope::shared},
  {.key = "database.password", .env = "DJ_PASS", .kind = Kind::string,
   .description = "Password of database.user.", .secret = true,
   .secrets_file = "database.password", .scope = Scope::shared},
  {.key = "database.create_tables", .env = "DJ_CREATE_TABLES", .kind = Kind::boolean, .default_text = "true",
   .description = "false is production mode: schema changes only in migration sessions.",
   .secrets_file = "database.create_tables", .scope = Scope::shared},
  {.key = "database.schema_prefix", .env = "DJ_SCHEMA_PREFIX", .kind = Kind::string,
   .description = "Every schema a statement touches must start with it. DataJoint 2.x names it database.database_prefix / DJ_DATABASE_PREFIX; both names are read, and they must agree within a layer.",
   .alias_key = "database.database_prefix", .alias_env = "DJ_DATABASE_PREFIX",
   .secrets_file = "database.schema_prefix", .scope = Scope::shared},
  {.key = "database.use_tls", .env = "DJ_USE_TLS", .kind = Kind::boolean,
   .description = "DataJoint's TLS switch for its own connection; unset means opportunistic.",
   .alias_env = "DJ_TLS", .secrets_file = "database.use_tls", .scope = Scope::shared},
  {.key = "safemode", .env = "DJ_SAFEMODE", .kind = Kind::boolean, .default_text = "true",
   .description = "DataJoint's confirmation prompts; read for completeness.", .scope = Scope::shared},
  {.key = "loglevel", .env = "DJ_LOG_LEVEL", .kind = Kind::choice, .default_text = "INFO",
   .description = "Log level of the proxy's own log.",
   .choices = "DEBUG|INFO|WARNING|ERROR|CRITICAL", .scope = Scope::shared},

  // ---- locating the files -------------------------------------------------------
  {.key = "config", .env = "DJPROXY_CONFIG", .kind = Kind::path,
   .description = "djproxy.toml to read (`--config PATH` wins); default ./djproxy.toml when present.",
   .apply = Apply::restart, .scope = Scope::locator},
  {.key = "datajoint_json", .env = "DJPROXY_DATAJOINT_JSON", .kind = Kind::path,
   .description = "datajoint.json to read instead of searching upward from the working directory.",
   .apply = Apply::restart, .scope = Scope::locator},

  // ---- the proxy ----------------------------------------------------------------
  {.key = "env", .env = "DJPROXY_ENV", .kind = Kind::choice, .default_text = "development",
   .description = "`production` makes `djproxy check` strict.", .choices = "development|production"},
  {.key = "listen", .env = "DJPROXY_LISTEN", .kind = Kind::endpoint, .default_text = "127.0.0.1:6033",
   .description = "Address clients connect to.", .apply = Apply::restart},
  {.key = "admin_listen", .env = "DJPROXY_ADMIN_LISTEN", .kind = Kind::endpoint, .default_text = "127.0.0.1:9033",
   .description = "Admin HTTP address (/healthz /readyz /metrics).", .apply = Apply::restart},
  {.key = "threads", .env = "DJPROXY_THREADS", .kind = Kind::integer, .default_text = "0",
   .description = "I/O threads; 0 = one per core.", .min = 0, .max = 1024, .apply = Apply::restart},
  {.key = "backend.host", .env = "DJPROXY_BACKEND_HOST", .kind = Kind::host,
   .description = "The real MySQL server; `host:port` carries the port. Unset: database.host. DJPROXY_BACKEND=host:port sets it.",
   .alias_env = "DJPROXY_BACKEND", .apply = Apply::new_connections},
  {.key = "backend.port", .env = "DJPROXY_BACKEND_PORT", .kind = Kind::port,
   .description = "Port of backend.host; unset: 3306 when backend.host is set, else database.port.",
   .apply = Apply::new_connections},

  {.key = "client_tls.mode", .env = "DJPROXY_CLIENT_TLS_MODE", .kind = Kind::choice, .default_text = "preferred",
   .description = "TLS towards clients.", .choices = "off|preferred|required", .apply = Apply::new_connections},
  {.key = "client_tls.cert", .env = "DJPROXY_CLIENT_TLS_CERT", .kind = Kind::path,
   .description = "Certificate chain (PEM) for clients; unset: a self-signed one is generated at start.",
   .apply = Apply::new_connections},
  {.key = "client_tls.key", .env = "DJPROXY_CLIENT_TLS_KEY", .kind = Kind::path,
   .description = "Private key (PEM) of client_tls.cert.", .apply = Apply::new_connections},
  {.key = "backend_tls.mode", .env = "DJPROXY_BACKEND_TLS_MODE", .kind = Kind::choice, .default_text = "preferred",
   .description = "TLS towards the server.", .choices = "off|preferred|required|verify-ca|verify-identity",
   .apply = Apply::new_connections},
  {.key = "backend_tls.ca", .env = "DJPROXY_BACKEND_TLS_CA", .kind = Kind::path,
   .description = "CA bundle (PEM) that verify-ca / verify-identity trust; unset: the system store.",
   .apply = Apply::new_connections},
  {.key = "backend_tls.cert", .env = "DJPROXY_BACKEND_TLS_CERT", .kind = Kind::path,
   .description = "Client certificate (PEM) presented to the server.", .apply = Apply::new_connections},
  {.key = "backend_tls.key", .env = "DJPROXY_BACKEND_TLS_KEY", .kind = Kind::path,
   .description = "Private key (PEM) of backend_tls.cert.", .apply = Apply::new_connections},

  {.key = "timeouts.connect", .env = "DJPROXY_TIMEOUTS_CONNECT", .kind = Kind::duration, .default_text = "5s",
   .description = "Connecting to the server.", .apply = Apply::new_connections},
  {.key = "timeouts.handshake", .env = "DJPROXY_TIMEOUTS_HANDSHAKE", .kind = Kind::duration, .default_text = "10s",
   .description = "Greeting, TLS and authentication, both legs.", .apply = Apply::new_connections},
  {.key = "timeouts.idle", .env = "DJPROXY_TIMEOUTS_IDLE", .kind = Kind::duration, .default_text = "8h",
   .description = "Idle client connection; 0 = none.", .apply = Apply::new_connections},
  {.key = "timeouts.shutdown_grace", .env = "DJPROXY_TIMEOUTS_SHUTDOWN_GRACE", .kind = Kind::duration, .default_text = "30s",
   .description = "How long shutdown waits for running statements."},
  {.key = "limits.max_connections", .env = "DJPROXY_LIMITS_MAX_CONNECTIONS", .kind = Kind::integer, .default_text = "1000",
   .description = "Client connections at once; more are refused.", .min = 1, .max = 1'000'000},
  {.key = "limits.max_handshakes", .env = "DJPROXY_LIMITS_MAX_HANDSHAKES", .kind = Kind::integer, .default_text = "64",
   .description = "Connections between accept and authentication at once (each holds a server connection); more get "
                  "1040 at once.", .min = 1, .max = 1'000'000},
  {.key = "limits.max_statement_bytes", .env = "DJPROXY_LIMITS_MAX_STATEMENT_BYTES", .kind = Kind::bytes, .default_text = "1GiB",
   .description = "Longest statement accepted.", .min = 1, .max = 64 * kGiB},

  {.key = "policy.mode", .env = "DJPROXY_POLICY_MODE", .kind = Kind::choice, .default_text = "enforce",
   .description = "dry-run logs every decision but forwards everything.", .choices = "enforce|dry-run"},
  {.key = "policy.temporary_tables", .env = "DJPROXY_POLICY_TEMPORARY_TABLES", .kind = Kind::boolean, .default_text = "true",
   .description = "Allow CREATE/DROP TEMPORARY TABLE outside migrations."},
  {.key = "policy.bookkeeping_tables", .env = "DJPROXY_POLICY_BOOKKEEPING_TABLES", .kind = Kind::boolean, .default_text = "true",
   .description = "Allow CREATE TABLE IF NOT EXISTS of DataJoint's `~` tables inside the prefix."},
  {.key = "policy.server_files", .env = "DJPROXY_POLICY_SERVER_FILES", .kind = Kind::boolean, .default_text = "false",
   .description = "In production, forward statements that read or write files on the database server (INTO OUTFILE/DUMPFILE, LOAD DATA/XML without LOCAL, LOAD_FILE(), DATA/INDEX DIRECTORY), migrations included."},
  {.key = "policy.lower_case_table_names", .env = "DJPROXY_POLICY_LOWER_CASE_TABLE_NAMES", .kind = Kind::integer, .default_text = "0",
   .description = "The server's lower_case_table_names, for comparing schema names.", .min = 0, .max = 2},
  {.key = "policy.extra_readable_schemas", .env = "DJPROXY_POLICY_EXTRA_READABLE_SCHEMAS", .kind = Kind::list,
   .description = "Schemas outside the prefix that may be read."},

  {.key = "migration.users", .env = "DJPROXY_MIGRATION_USERS", .kind = Kind::list,
   .description = "Accounts whose sessions are migration sessions."},
  {.key = "migration.key", .env = "DJPROXY_MIGRATION_KEY", .kind = Kind::string,
   .description = "HMAC key that signs migration tokens (at least 32 bytes).", .secret = true,
   .secrets_file = "djproxy.migration_key"},
  {.key = "migration.public_key", .env = "DJPROXY_MIGRATION_PUBLIC_KEY", .kind = Kind::path,
   .description = "Ed25519 public key (PEM) that verifies migration tokens; all a sidecar needs."},
  {.key = "migration.private_key", .env = "DJPROXY_MIGRATION_PRIVATE_KEY", .kind = Kind::path,
   .description = "Ed25519 private key (PEM) that `djproxy token issue` signs with; never give it to a worker."},
  {.key = "migration.max_token_ttl", .env = "DJPROXY_MIGRATION_MAX_TOKEN_TTL", .kind = Kind::duration, .default_text = "24h",
   .description = "Longest lifetime a migration token may have."},

  {.key = "audit.log", .env = "DJPROXY_AUDIT_LOG", .kind = Kind::path, .default_text = "-",
   .description = "Audit log file (JSON lines), or `-` for stdout."},
  {.key = "audit.rotate_size", .env = "DJPROXY_AUDIT_ROTATE_SIZE", .kind = Kind::bytes, .default_text = "100MiB",
   .description = "Rotate the audit file at this size.", .min = 1, .max = 1024 * kGiB},
  {.key = "audit.rotate_count", .env = "DJPROXY_AUDIT_ROTATE_COUNT", .kind = Kind::integer, .default_text = "10",
   .description = "Rotated audit files kept.", .min = 0, .max = 10'000},
  {.key = "audit.events", .env = "DJPROXY_AUDIT_EVENTS", .kind = Kind::list,
   .default_text = "connect,disconnect,auth,reject,rewrite,migration,ddl,bookkeeping",
   .description = "Events written to the audit log.",
   .choices = "connect|disconnect|auth|reject|rewrite|migration|ddl|bookkeeping|statement"},
  {.key = "audit.all_statements", .env = "DJPROXY_AUDIT_ALL_STATEMENTS", .kind = Kind::boolean, .default_text = "false",
   .description = "Audit every statement, not only the events above."},
  {.key = "audit.statement_max_length", .env = "DJPROXY_AUDIT_STATEMENT_MAX_LENGTH", .kind = Kind::integer, .default_text = "2048",
   .description = "Statement text in an audit record is cut to this many bytes; 0 = whole.", .min = 0, .max = 1 << 30},
});
// clang-format on

// Resolved at compile time, so a typo in a key used by code fails the build.
consteval std::size_t index_of(std::string_view key) {
  for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
    if (kDescriptors[i].key == key || (!kDescriptors[i].alias_key.empty() && kDescriptors[i].alias_key == key)) {
      return i;
    }
  }
  throw "unknown setting key";  // not a constant expression: reports the key at compile time
}

// Run-time look-up by key or alias key.
const Descriptor* find_descriptor(std::string_view key);
std::optional<std::size_t> find_index(std::string_view key);

// The environment name a djproxy key gets: DJPROXY_ + upper-case key, dots as underscores.
std::string derived_env_name(std::string_view key);

std::string_view to_string(Kind kind);
std::string_view to_string(Apply apply);

}  // namespace djproxy::config
