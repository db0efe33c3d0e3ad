#pragma once
// `djproxy config [--json]`: the effective settings, each with its value and origin.
// Also the glue every command uses to load settings: the global `--config PATH`.

#include <iosfwd>

#include <CLI/CLI.hpp>

#include "config/loader.hpp"

namespace djproxy::cli {

// Registers `--config PATH` on the top-level app; call once from main, before subcommands.
void add_config_path_option(CLI::App& app);

// This run's load options: the process environment, the working directory, and
// `--config` from the top-level app (found from any subcommand).
config::LoadOptions load_options_from(const CLI::App& app);

void add_config_command(CLI::App& app);

// The command itself, with its streams injected for tests; returns the exit code.
int run_config_command(const config::LoadOptions& options, bool json, std::ostream& out, std::ostream& err);

}  // namespace djproxy::cli
