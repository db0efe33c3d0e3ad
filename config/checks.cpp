#include "config/checks.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace djproxy::config {
namespace {

std::string where(const Settings& s, std::string_view key) {
  return std::string(key) + " (" + s.entry(key).origin.text + ")";
}

void check_readable(const Settings& s, std::string_view key, std::vector<Finding>& out) {
  const auto* path = std::get_if<std::string>(&s.entry(key).value);
  if (path == nullptr) return;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(*path, ec)) {
    out.push_back({Finding::Severity::problem, where(s, key) + ": " + *path + " is not a file"});
  } else if (std::ifstream in(*path); !in) {
    out.push_back({Finding::Severity::problem, where(s, key) + ": " + *path + " cannot be read"});
  }
}

}  // namespace

std::vector<Finding> check_settings(const Settings& s, bool production) {
  std::vector<Finding> out;
  using S = Finding::Severity;

  if (production) {
    if (s.database().create_tables) {
      out.push_back({S::problem, where(s, "database.create_tables") +
                                     ": true; production needs false (DJ_CREATE_TABLES=false)"});
    }
    if (!s.database().schema_prefix || s.database().schema_prefix->empty()) {
      out.push_back({S::problem, "database.schema_prefix: not set; production needs a prefix (DJ_DATABASE_PREFIX)"});
    }
    if (is_loopback_host(s.backend().host)) {
      out.push_back({S::problem, where(s, "backend.host") + ": " + s.backend().to_string() +
                                     " is this machine; production needs the real server (DJPROXY_BACKEND)"});
    }
    if (s.policy().mode == PolicyMode::dry_run) {
      out.push_back({S::warning, where(s, "policy.mode") + ": dry-run forwards everything the policy would reject"});
    }
    if (s.migration().users.empty() && s.migration().key.empty() && !s.migration().public_key) {
      out.push_back({S::warning, "migration.users, migration.key and migration.public_key: none set; no session can "
                                 "change schemas"});
    }
  }

  const auto& key = s.migration().key;
  if (!key.empty() && key.size() < kMinMigrationKeyBytes) {
    out.push_back({S::problem, where(s, "migration.key") + ": " + std::to_string(key.size()) +
                                   " bytes; a token key needs at least " + std::to_string(kMinMigrationKeyBytes)});
  }

  for (auto k : {"client_tls.cert", "client_tls.key", "backend_tls.ca", "backend_tls.cert", "backend_tls.key",
                 "migration.public_key", "migration.private_key"}) {
    check_readable(s, k, out);
  }

  const auto& log = s.audit().log;
  if (log != "-") {
    std::filesystem::path p(log);
    auto dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    if (std::filesystem::exists(p, ec) ? ::access(p.c_str(), W_OK) != 0 : ::access(dir.c_str(), W_OK) != 0) {
      out.push_back({S::problem, where(s, "audit.log") + ": " + log + " cannot be written"});
    }
  }

  for (const auto& w : s.warnings()) out.push_back({S::warning, w});
  return out;
}

}  // namespace djproxy::config
