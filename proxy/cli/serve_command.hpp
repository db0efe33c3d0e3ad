#pragma once
#include <CLI/CLI.hpp>

#include "config/settings.hpp"
#include "policy/types.hpp"

namespace djproxy::cli {
// The policy settings `serve` decides with; `explain` reads the same.
policy::PolicyConfig policy_config(const config::Settings& settings);

// `djproxy serve`: the proxy itself, configured by the layered settings.
void add_serve_command(CLI::App& app);
}  // namespace djproxy::cli
