// djproxy: a MySQL wire-protocol proxy that enforces DataJoint production policy.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "proxy/cli/check_command.hpp"
#include "proxy/cli/config_command.hpp"
#include "proxy/cli/explain_command.hpp"
#include "proxy/cli/health_command.hpp"
#include "proxy/cli/serve_command.hpp"
#include "proxy/cli/token_command.hpp"
#include "proxy/log_format.hpp"
#include "proxy/version.hpp"

int main(int argc, char** argv) {
  // Logs go to stderr so that stdout stays the command's output (and the audit log's,
  // when that is configured as "-"). Messages are escaped (client bytes in them).
  spdlog::set_default_logger(spdlog::stderr_color_mt("djproxy"));
  djproxy::use_escaped_log_format(*spdlog::default_logger());

  CLI::App app{"djproxy: MySQL wire-protocol proxy enforcing DataJoint production policy", "djproxy"};
  app.set_version_flag("--version", std::string("djproxy ") + djproxy::kVersion);
  app.require_subcommand(1);
  djproxy::cli::add_config_path_option(app);
  djproxy::cli::add_serve_command(app);
  djproxy::cli::add_token_command(app);
  djproxy::cli::add_explain_command(app);
  djproxy::cli::add_config_command(app);
  djproxy::cli::add_check_command(app);
  djproxy::cli::add_health_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
