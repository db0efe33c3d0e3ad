#include "proxy/cli/token_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <ostream>

#include "config/checks.hpp"
#include "config/value.hpp"
#include "proxy/cli/config_command.hpp"
#include "proxy/migration/ed25519.hpp"
#include "proxy/migration/token.hpp"

namespace djproxy::cli {
namespace {

namespace mig = migration;

// `djproxy check` and the proxies must agree on what a weak key is.
static_assert(mig::kMinKeyBytes == config::kMinMigrationKeyBytes);

// The note and scope may come from a token that does not verify; printing its
// control characters raw would let it rewrite the DBA's terminal.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + printable(item);
  return out;
}

std::string relative(std::int64_t when, std::int64_t now) {
  if (when == now) return "now";
  if (when > now) return "in " + mig::format_seconds(when - now);
  return mig::format_seconds(now - when) + " ago";
}

void print_fields(std::ostream& out, const mig::MigrationToken& t, std::int64_t now) {
  out << "token id:    " << t.id << "\n"
      << "scope:       " << join(t.scope) << "\n"
      << "issued at:   " << mig::format_time(t.issued_at) << " (" << relative(t.issued_at, now) << ")\n"
      << "expires at:  " << mig::format_time(t.expires_at) << " (" << relative(t.expires_at, now) << ", lifetime "
      << mig::format_seconds(t.expires_at - t.issued_at) << ")\n"
      << "note:        " << (t.note.empty() ? "(none)" : printable(t.note)) << "\n";
}

// Null (after printing why) when the settings do not load.
std::shared_ptr<const config::Settings> load_settings(const config::LoadOptions& options, std::ostream& err) {
  auto result = config::load(options);
  for (const auto& warning : result.warnings) err << "djproxy: warning: " << warning << "\n";
  if (!result.ok()) {
    for (const auto& error : result.errors) err << "djproxy: " << error << "\n";
  }
  return result.settings;
}

std::string origin(const config::Settings& s, std::string_view key) {
  return s.entry(key).origin.text;
}

std::chrono::seconds max_ttl_seconds(const config::Settings& s) {
  return std::chrono::duration_cast<std::chrono::seconds>(s.migration().max_token_ttl);
}

// The Ed25519 public key a proxy with these settings verifies with; nullopt
// (after printing why) when it is configured but does not load.
std::optional<std::shared_ptr<const mig::Ed25519Key>> public_key(const config::Settings& s, std::ostream& err) {
  const auto& path = s.migration().public_key;
  if (!path) return std::shared_ptr<const mig::Ed25519Key>();
  try {
    return std::make_shared<const mig::Ed25519Key>(mig::Ed25519Key::from_public_pem(mig::read_key_file(path->string())));
  } catch (const std::exception& e) {
    err << e.what() << " (migration.public_key, " << path->string() << ")\n";
    return std::nullopt;
  }
}

// O_EXCL: an existing key is never overwritten, and the private key is 0600 from
// its first byte rather than chmod-ed after being written.
bool write_new_file(const std::string& path, const std::string& text, mode_t mode, std::ostream& err) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    err << "djproxy: cannot create " << path << ": " << std::strerror(errno) << "\n";
    return false;
  }
  bool ok = ::fchmod(fd, mode) == 0 && ::write(fd, text.data(), text.size()) == ssize_t(text.size());
  ok = (::close(fd) == 0) && ok;
  if (!ok) err << "djproxy: cannot write " << path << ": " << std::strerror(errno) << "\n";
  return ok;
}

}  // namespace

int run_token_issue(const config::LoadOptions& options, const TokenIssueRequest& request, std::int64_t now,
                    std::ostream& out, std::ostream& err) {
  auto settings = load_settings(options, err);
  if (!settings) return 2;
  const auto& key = settings->migration().key;
  const std::string prefix = settings->database().schema_prefix.value_or("");

  // The private key, when there is one, signs; HMAC stays for single-host setups.
  std::optional<mig::Ed25519Key> private_key;
  std::string private_origin;
  std::string private_path = request.private_key;
  if (!private_path.empty()) {
    private_origin = "--private-key " + private_path;
  } else if (const auto& configured = settings->migration().private_key) {
    private_path = configured->string();
    private_origin = "migration.private_key (" + origin(*settings, "migration.private_key") + ")";
  }
  if (!private_path.empty()) {
    try {
      private_key = mig::Ed25519Key::from_private_pem(mig::read_key_file(private_path));
    } catch (const std::exception& e) {
      err << e.what() << " (" << private_origin << ")\n";
      return 1;
    }
  } else if (key.empty() && settings->migration().public_key) {
    err << "djproxy: this configuration has only the Ed25519 public key (migration.public_key), which verifies "
           "tokens but cannot sign them; issue tokens where the private key is (migration.private_key or "
           "--private-key), e.g. on the DBA's machine or in the migration Job's issuer\n";
    return 1;
  }

  if (!private_key && key.empty()) {
    err << "djproxy: no migration key is configured, so no token can be signed; set migration.key (secrets file "
           "djproxy.migration_key, DJPROXY_MIGRATION_KEY_FILE or DJPROXY_MIGRATION_KEY) to at least "
        << mig::kMinKeyBytes << " random bytes, the same on every proxy; or sign with an Ed25519 key "
           "(djproxy token keygen, migration.private_key)\n";
    return 1;
  }
  if (!private_key && key.size() < mig::kMinKeyBytes) {
    err << "djproxy: the migration key (" << origin(*settings, "migration.key") << ") is " << key.size()
        << " bytes; signing tokens needs at least " << mig::kMinKeyBytes << "\n";
    return 1;
  }

  auto ttl = config::parse_duration(request.ttl);
  if (!ttl) {
    err << "djproxy: --ttl '" << printable(request.ttl) << "' is not a duration (e.g. 30m, 2h, 1h30m)\n";
    return 1;
  }
  const auto ttl_seconds = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
  if (ttl_seconds.count() < 1) {
    err << "djproxy: --ttl " << config::format_duration(*ttl) << " is too short; a token lives at least 1s\n";
    return 1;
  }
  const auto max_ttl = settings->migration().max_token_ttl;
  if (*ttl > max_ttl) {
    err << "djproxy: --ttl " << config::format_duration(*ttl) << " is longer than migration.max_token_ttl ("
        << config::format_duration(max_ttl) << ", " << origin(*settings, "migration.max_token_ttl")
        << "); proxies would refuse the token\n";
    return 1;
  }

  std::vector<std::string> scope;
  for (const auto& pattern : request.schemas) {
    if (!mig::valid_pattern(pattern)) {
      err << "djproxy: --schema '" << printable(pattern)
          << "' is not a schema name or a name ending in * (e.g. myproject_* or myproject_ephys)\n";
      return 1;
    }
    if (!mig::pattern_inside_prefix(pattern, prefix)) {
      err << "djproxy: --schema '" << pattern << "' is outside the schema prefix '" << prefix
          << "' (database.schema_prefix, " << origin(*settings, "database.schema_prefix") << "); e.g. --schema '"
          << prefix << "*' covers every schema inside it\n";
      return 1;
    }
    if (std::find(scope.begin(), scope.end(), pattern) == scope.end()) scope.push_back(pattern);
  }
  if (scope.empty()) {
    err << "djproxy: give at least one --schema\n";
    return 1;
  }
  if (request.note.size() > mig::kMaxNoteBytes) {
    err << "djproxy: --note is " << request.note.size() << " bytes; at most " << mig::kMaxNoteBytes << "\n";
    return 1;
  }

  mig::MigrationToken token;
  token.scope = std::move(scope);
  token.issued_at = now;
  token.expires_at = now + ttl_seconds.count();
  token.note = request.note;
  std::string text;
  try {
    token.id = mig::new_token_id();
    text = private_key ? mig::issue(token, *private_key) : mig::issue(token, key);
  } catch (const std::exception& e) {
    err << e.what() << "\n";
    return 1;
  }

  // Checked the way a proxy with these settings will check it, so a token that
  // is printed is one the proxies accept.
  // An Ed25519 token is checked with the private key's own public half.
  std::optional<mig::Ed25519Key> own_public;
  if (private_key) own_public = mig::Ed25519Key::from_public_pem(private_key->public_pem());
  const mig::TokenKeys keys{private_key ? std::string_view() : std::string_view(key),
                            own_public ? &*own_public : nullptr};
  auto check = mig::verify(text, keys, now, prefix, max_ttl_seconds(*settings));
  if (!check.ok()) {
    err << "djproxy: internal error: the new token does not verify: " << check.message << "\n";
    return 1;
  }

  // A file, for an issuer that has no shell to redirect with (the image has none):
  // group-readable, so a Pod's fsGroup lets the migrating container read it.
  if (!request.token_file.empty() && !write_new_file(request.token_file, text + "\n", 0640, err)) return 1;

  print_fields(out, token, now);
  out << "key:         "
      << (private_key ? "Ed25519, " + private_origin : "migration.key (" + origin(*settings, "migration.key") + ")")
      << "\n"
      << "use it:      SET @djproxy_migration = '<token>';  -- then SET @djproxy_migration = NULL; to end\n";
  if (request.token_file.empty()) {
    out << text << "\n";
  } else {
    out << "token:       written to " << request.token_file << "\n";
  }
  return 0;
}

int run_token_inspect(const config::LoadOptions& options, std::string_view token, std::int64_t now,
                      std::ostream& out, std::ostream& err) {
  auto settings = load_settings(options, err);
  if (!settings) return 2;
  const auto& key = settings->migration().key;
  const std::string prefix = settings->database().schema_prefix.value_or("");
  auto public_key_result = public_key(*settings, err);
  if (!public_key_result) return 1;
  const auto& verifying_key = *public_key_result;

  auto check = mig::verify(token, mig::TokenKeys{key, verifying_key.get()}, now, prefix, max_ttl_seconds(*settings));
  if (check.token) {
    print_fields(out, *check.token, now);
  } else if (auto claimed = mig::decode_unverified(token)) {
    out << "(the fields below are what the token claims; its signature was not verified)\n";
    print_fields(out, *claimed, now);
  } else {
    out << "fields:      unreadable\n";
  }
  out << "key:         "
      << (verifying_key ? "migration.public_key (" + origin(*settings, "migration.public_key") + ")"
                        : "migration.key (" + origin(*settings, "migration.key") + ")")
      << "\n"
      << "prefix:      " << (prefix.empty() ? "(none)" : prefix) << "\n";
  if (check.ok()) {
    out << "verifies:    yes, with this key and prefix\n";
    return 0;
  }
  out << "verifies:    no (" << mig::to_string(check.status) << ")\n"
      << "reason:      " << check.message << "\n";
  return 1;
}

int run_token_keygen(const std::string& prefix, std::ostream& out, std::ostream& err) {
  const std::string key_path = prefix + ".key";
  const std::string pub_path = prefix + ".pub";
  for (const auto& path : {key_path, pub_path}) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
      err << "djproxy: " << path << " exists; keygen never overwrites a key (move it away, or choose another --out)\n";
      return 1;
    }
  }
  std::string private_pem;
  std::string public_pem;
  try {
    auto key = mig::Ed25519Key::generate();
    private_pem = key.private_pem();
    public_pem = key.public_pem();
  } catch (const std::exception& e) {
    err << e.what() << "\n";
    return 1;
  }
  if (!write_new_file(key_path, private_pem, 0600, err)) return 1;
  if (!write_new_file(pub_path, public_pem, 0644, err)) {
    ::unlink(key_path.c_str());  // half a pair would only confuse
    return 1;
  }
  out << "private key: " << key_path << " (mode 0600; for `djproxy token issue` only: migration.private_key)\n"
      << "public key:  " << pub_path << " (for every proxy: migration.public_key)\n";
  return 0;
}

void add_token_command(CLI::App& app) {
  auto* token = app.add_subcommand("token", "Make keys, issue or inspect signed migration tokens");
  token->require_subcommand(1);

  auto request = std::make_shared<TokenIssueRequest>();
  auto* issue = token->add_subcommand(
      "issue", "Sign a migration token (the token alone is the last line of the output)");
  issue->add_option("--schema", request->schemas,
                    "Schema the token may change: an exact name or a name ending in * (quote it: 'myproject_*'); "
                    "repeatable")
      ->required()
      ->type_name("PATTERN");
  issue->add_option("--ttl", request->ttl, "Lifetime, e.g. 30m, 2h (at most migration.max_token_ttl)")
      ->required()
      ->type_name("DURATION");
  issue->add_option("--note", request->note, "Who and why, for the audit log")->type_name("TEXT");
  issue->add_option("--private-key", request->private_key,
                    "Ed25519 private key (PEM) to sign with, over migration.private_key")
      ->type_name("PATH");
  issue->add_option("--token-file", request->token_file,
                    "Write the token to this new file (mode 0640) instead of printing it")
      ->type_name("PATH");
  issue->callback([&app, request] {
    int rc = run_token_issue(load_options_from(app), *request, std::time(nullptr), std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto out_prefix = std::make_shared<std::string>();
  auto* keygen = token->add_subcommand("keygen", "Write an Ed25519 key pair: PREFIX.key (private) and PREFIX.pub");
  keygen->add_option("--out", *out_prefix, "Path prefix of the two files")->required()->type_name("PREFIX");
  keygen->callback([out_prefix] {
    int rc = run_token_keygen(*out_prefix, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto text = std::make_shared<std::string>();
  auto* inspect = token->add_subcommand("inspect", "Show a token's fields and whether it verifies; exit 1 if not");
  inspect->add_option("TOKEN", *text, "The token")->required();
  inspect->callback([&app, text] {
    int rc = run_token_inspect(load_options_from(app), *text, std::time(nullptr), std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace djproxy::cli
