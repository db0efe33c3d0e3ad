#pragma once
// A throw-away directory tree per test, so file-based layers are tested on real
// files without touching the working directory or the real secrets directory.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace djproxy::config::testing {

class TempTree {
 public:
  TempTree() {
    std::string pattern = (std::filesystem::temp_directory_path() / "djproxy-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    // Fence the upward datajoint.json search inside the tree, whatever /tmp holds.
    std::filesystem::create_directories(root_ / ".git");
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::filesystem::path& root() const { return root_; }

  std::filesystem::path write(std::string_view relative, std::string_view text) const {
    auto path = root_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path mkdir(std::string_view relative) const {
    auto path = root_ / relative;
    std::filesystem::create_directories(path);
    return path;
  }

  // Options rooted here: working directory = root (or a sub-directory), no system secrets.
  LoadOptions options(EnvMap env = {}, std::string_view subdir = {}) const {
    LoadOptions o;
    o.env = std::move(env);
    o.working_dir = subdir.empty() ? root_ : root_ / subdir;
    o.system_secrets_dir = root_ / "no-system-secrets";
    return o;
  }

 private:
  std::filesystem::path root_;
};

}  // namespace djproxy::config::testing
