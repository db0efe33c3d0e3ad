#include "proxy/cli/global_options.hpp"

namespace djproxy::cli {

void add_global_options(CLI::App& app) {
  app.add_option("--config", "djproxy.toml to read (default: $DJPROXY_CONFIG)")->type_name("PATH");
}

config::LoadOptions load_options(const CLI::App& app) {
  auto options = config::LoadOptions::from_process();
  if (const auto* opt = app.get_option("--config"); opt->count() > 0) options.config_path = opt->as<std::string>();
  return options;
}

}  // namespace djproxy::cli
