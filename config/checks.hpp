#pragma once
// The part of `djproxy check` that needs neither sockets nor OpenSSL: production
// rules, the migration key's strength, and whether named files can be read.

#include <string>
#include <vector>

#include "config/settings.hpp"

namespace djproxy::config {

struct Finding {
  enum class Severity { problem, warning };
  Severity severity = Severity::problem;
  std::string text;  // one line, naming the key and its origin
};

inline constexpr std::size_t kMinMigrationKeyBytes = 32;

// production: `--production` was given or env = production.
std::vector<Finding> check_settings(const Settings& settings, bool production);

}  // namespace djproxy::config
