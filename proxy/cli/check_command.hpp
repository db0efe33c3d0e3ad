#pragma once
// `djproxy check [--connect] [--production]`: the deployment guide's verification.
// Exit 0 when all is well, 1 with one line per problem.

#include <iosfwd>

#include <CLI/CLI.hpp>

#include "config/loader.hpp"

namespace djproxy::cli {

struct CheckOptions {
  bool connect = false;     // also log in to the backend
  bool production = false;  // strict rules even without DJPROXY_ENV=production
};

void add_check_command(CLI::App& app);

int run_check_command(const config::LoadOptions& options, const CheckOptions& check, std::ostream& out);

}  // namespace djproxy::cli
