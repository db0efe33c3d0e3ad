#pragma once
#include <CLI/CLI.hpp>

namespace djproxy::cli {
// `djproxy serve`: the proxy itself, configured by the layered settings.
void add_serve_command(CLI::App& app);
}  // namespace djproxy::cli
