#pragma once
// Builds Settings from the layers, highest first: environment, secrets (`*_FILE`
// variables, then the secrets directory), djproxy.toml, datajoint.json, defaults.
// The environment and the working directory come in as arguments, so tests need
// no real environment.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace djproxy::config {

using EnvMap = std::map<std::string, std::string, std::less<>>;

struct LoadOptions {
  EnvMap env;
  std::filesystem::path working_dir;                  // where the datajoint.json search starts
  std::optional<std::filesystem::path> config_path;  // `--config PATH`; wins over DJPROXY_CONFIG
  std::filesystem::path system_secrets_dir = "/run/secrets/datajoint";

  // A snapshot of this process's environment and working directory.
  static LoadOptions from_process();
};

struct LoadResult {
  std::shared_ptr<const Settings> settings;  // null when there are errors
  std::vector<std::string> errors;           // every problem, each naming the key or variable and its source
  std::vector<std::string> warnings;         // also in settings->warnings()
  bool ok() const { return settings != nullptr; }
};

LoadResult load(const LoadOptions& options);

// DataJoint's search: from `start` upward; stops after a directory holding .git or
// .hg, or at the root. Empty path: none found.
std::filesystem::path find_datajoint_json(const std::filesystem::path& start);

}  // namespace djproxy::config
