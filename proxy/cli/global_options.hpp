#pragma once
// Options every command shares, so each reads the settings the same way.
#include <CLI/CLI.hpp>

#include "config/loader.hpp"

namespace djproxy::cli {

// Adds `--config PATH` to the top-level app.
void add_global_options(CLI::App& app);
// The layered-settings inputs: this process's environment and directory, plus --config.
config::LoadOptions load_options(const CLI::App& app);

}  // namespace djproxy::cli
