#include "config/reference.hpp"

#include "config/descriptors.hpp"

namespace djproxy::config {
namespace {

std::string code(std::string_view s) {
  if (s.empty()) return "—";
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '`').append(s).append(1, '`');
  return out;
}

std::string escape_pipes(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

}  // namespace

std::string settings_reference_markdown() {
  std::string out =
      "| key | environment | type | default | applies on reload | description |\n"
      "| --- | --- | --- | --- | --- | --- |\n";
  for (const auto& d : kDescriptors) {
    std::string key = code(d.key);
    if (!d.alias_key.empty()) key += " (also " + code(d.alias_key) + ")";
    std::string env = code(d.env);
    if (!d.alias_env.empty()) env += ", " + code(d.alias_env);
    if (d.scope != Scope::locator) env += " (+ `_FILE`)";
    std::string type(to_string(d.kind));
    if (!d.choices.empty()) type += ": " + escape_pipes(d.choices);
    std::string description(d.description);
    if (d.secret) description += " Secret: shown as `***`.";
    if (!d.secrets_file.empty()) description += " Secrets-dir file: `" + std::string(d.secrets_file) + "`.";
    out += "| " + key + " | " + env + " | " + type + " | " + code(d.default_text) + " | " +
           std::string(to_string(d.apply)) + " | " + escape_pipes(description) + " |\n";
  }
  return out;
}

}  // namespace djproxy::config
