#include "proxy/cli/token_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <ostream>

#include "config/checks.hpp"
#include "config/value.hpp"
#include "proxy/cli/config_command.hpp"
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

}  // namespace

int run_token_issue(const config::LoadOptions& options, const TokenIssueRequest& request, std::int64_t now,
                    std::ostream& out, std::ostream& err) {
  auto settings = load_settings(options, err);
  if (!settings) return 2;
  const auto& key = settings->migration().key;
  const std::string prefix = settings->database().schema_prefix.value_or("");

  if (key.empty()) {
    err << "djproxy: no migration key is configured, so no token can be signed; set migration.key (secrets file "
           "djproxy.migration_key, DJPROXY_MIGRATION_KEY_FILE or DJPROXY_MIGRATION_KEY) to at least "
        << mig::kMinKeyBytes << " random bytes, the same on every proxy\n";
    return 1;
  }
  if (key.size() < mig::kMinKeyBytes) {
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
    text = mig::issue(token, key);
  } catch (const std::exception& e) {
    err << e.what() << "\n";
    return 1;
  }

  // Checked the way a proxy with these settings will check it, so a token that
  // is printed is one the proxies accept.
  auto check = mig::verify(text, key, now, prefix, max_ttl_seconds(*settings));
  if (!check.ok()) {
    err << "djproxy: internal error: the new token does not verify: " << check.message << "\n";
    return 1;
  }

  print_fields(out, token, now);
  out << "key:         migration.key (" << origin(*settings, "migration.key") << ")\n"
      << "use it:      SET @djproxy_migration = '<token>';  -- then SET @djproxy_migration = NULL; to end\n"
      << text << "\n";
  return 0;
}

int run_token_inspect(const config::LoadOptions& options, std::string_view token, std::int64_t now,
                      std::ostream& out, std::ostream& err) {
  auto settings = load_settings(options, err);
  if (!settings) return 2;
  const auto& key = settings->migration().key;
  const std::string prefix = settings->database().schema_prefix.value_or("");

  auto check = mig::verify(token, key, now, prefix, max_ttl_seconds(*settings));
  if (check.token) {
    print_fields(out, *check.token, now);
  } else if (auto claimed = mig::decode_unverified(token)) {
    out << "(the fields below are what the token claims; its signature was not verified)\n";
    print_fields(out, *claimed, now);
  } else {
    out << "fields:      unreadable\n";
  }
  out << "key:         migration.key (" << origin(*settings, "migration.key") << ")\n"
      << "prefix:      " << (prefix.empty() ? "(none)" : prefix) << "\n";
  if (check.ok()) {
    out << "verifies:    yes, with this key and prefix\n";
    return 0;
  }
  out << "verifies:    no (" << mig::to_string(check.status) << ")\n"
      << "reason:      " << check.message << "\n";
  return 1;
}

void add_token_command(CLI::App& app) {
  auto* token = app.add_subcommand("token", "Issue or inspect signed migration tokens");
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
  issue->callback([&app, request] {
    int rc = run_token_issue(load_options_from(app), *request, std::time(nullptr), std::cout, std::cerr);
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
