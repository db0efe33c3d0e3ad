#include "proxy/cli/config_command.hpp"

#include "config/reference.hpp"

#include <algorithm>
#include <iostream>
#include <ostream>

#include <nlohmann/json.hpp>

namespace djproxy::cli {
namespace {

using config::Kind;
using config::kDescriptors;

constexpr const char* kConfigOption = "--config";

nlohmann::json json_value(const config::Settings& s, std::size_t index) {
  const auto& d = kDescriptors[index];
  const auto& e = s.entry(index);
  if (!e.is_set()) return nullptr;
  if (d.secret) return "***";
  if (const auto* b = std::get_if<bool>(&e.value)) return *b;
  if (const auto* list = std::get_if<std::vector<std::string>>(&e.value)) return *list;
  if (const auto* n = std::get_if<std::int64_t>(&e.value); n != nullptr && d.kind != Kind::bytes) return *n;
  return s.display(index);  // durations, sizes and addresses read best in their own notation
}

void print_json(const config::Settings& s, std::ostream& out) {
  nlohmann::ordered_json doc;
  auto& settings = doc["settings"];
  settings = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
    const auto& d = kDescriptors[i];
    nlohmann::ordered_json item;
    item["value"] = json_value(s, i);
    item["origin"] = s.entry(i).is_set() ? nlohmann::ordered_json(s.entry(i).origin.text) : nullptr;
    item["env"] = d.env;
    settings[std::string(d.key)] = std::move(item);
  }
  auto path_or_null = [](const std::filesystem::path& p) {
    return p.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(p.string());
  };
  doc["sources"] = {{"djproxy.toml", path_or_null(s.sources().toml)},
                    {"datajoint.json", path_or_null(s.sources().datajoint_json)},
                    {"secrets", path_or_null(s.sources().secrets_dir)}};
  doc["warnings"] = s.warnings();
  out << doc.dump(2) << '\n';
}

void print_text(const config::Settings& s, std::ostream& out) {
  auto source = [](const std::filesystem::path& p) { return p.empty() ? std::string("(none)") : p.string(); };
  out << "# djproxy.toml:   " << source(s.sources().toml) << '\n'
      << "# datajoint.json: " << source(s.sources().datajoint_json) << '\n'
      << "# secrets:        " << source(s.sources().secrets_dir) << '\n';

  std::size_t key_width = 3;
  std::size_t value_width = 5;
  std::vector<std::string> values;
  for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
    values.push_back(s.entry(i).is_set() ? s.display(i) : "(unset)");
    key_width = std::max(key_width, kDescriptors[i].key.size());
    value_width = std::max(value_width, values.back().size());
  }
  value_width = std::min<std::size_t>(value_width, 40);  // a long path should not push every origin off screen
  auto pad = [](const std::string& text, std::size_t width) {
    return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
  };
  out << pad("key", key_width) << "  " << pad("value", value_width) << "  origin\n";
  for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
    auto line = pad(std::string(kDescriptors[i].key), key_width) + "  " + pad(values[i], value_width) + "  " +
                (s.entry(i).is_set() ? s.entry(i).origin.text : "");
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  }
  for (const auto& w : s.warnings()) out << "# warning: " << w << '\n';
}

}  // namespace

void add_config_path_option(CLI::App& app) {
  app.add_option(kConfigOption)
      ->description("djproxy.toml to read (default: $DJPROXY_CONFIG, else ./djproxy.toml when present)")
      ->type_name("PATH");
}

config::LoadOptions load_options_from(const CLI::App& app) {
  const CLI::App* root = &app;
  while (root->get_parent() != nullptr) root = root->get_parent();
  auto options = config::LoadOptions::from_process();
  if (const auto* opt = root->get_option_no_throw(kConfigOption); opt != nullptr && opt->count() > 0) {
    options.config_path = opt->as<std::string>();
  }
  return options;
}

int run_config_command(const config::LoadOptions& options, bool json, std::ostream& out, std::ostream& err) {
  auto result = config::load(options);
  if (!result.ok()) {
    for (const auto& e : result.errors) err << "error: " << e << '\n';
    return 1;
  }
  if (json) print_json(*result.settings, out);
  else print_text(*result.settings, out);
  return 0;
}

void add_config_command(CLI::App& app) {
  auto* sub = app.add_subcommand("config", "Show the effective settings, each with its value and origin");
  // Flags are read back from the parser rather than bound to storage the callback would have to own.
  sub->add_flag("--json")->description("Print JSON instead of a table");
  sub->add_flag("--reference")->description("Print the reference of every setting (Markdown), as in the README");
  sub->callback([sub] {
    if (sub->count("--reference") > 0) {
      std::cout << config::settings_reference_markdown();
      return;
    }
    int rc = run_config_command(load_options_from(*sub), sub->count("--json") > 0, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace djproxy::cli
