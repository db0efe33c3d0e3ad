#include "policy/rule.hpp"

namespace djproxy::policy {
namespace {

// Indexed by the enum: adding a rule without its name fails the static_assert below.
constexpr std::array<std::string_view, kRuleCount> kNames = {
    "",          "prefix",      "system-schema", "schema-change",  "migration-scope", "migration-token",
    "migration", "fail-closed", "bookkeeping",   "lineage",        "administrative",  "command",
    "server-files",
};
static_assert(static_cast<std::size_t>(Rule::server_files) + 1 == kRuleCount, "a rule without a name");

constexpr std::array<Rule, kRuleCount> make_all() {
  std::array<Rule, kRuleCount> out{};
  for (std::size_t i = 0; i < kRuleCount; ++i) out[i] = static_cast<Rule>(i);
  return out;
}
constexpr std::array<Rule, kRuleCount> kAll = make_all();

}  // namespace

std::string_view to_string(Rule rule) noexcept {
  const auto i = static_cast<std::size_t>(rule);
  return i < kRuleCount ? kNames[i] : std::string_view("fail-closed");
}

std::optional<Rule> rule_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kRuleCount; ++i)
    if (kNames[i] == name) return static_cast<Rule>(i);
  return std::nullopt;
}

const std::array<Rule, kRuleCount>& all_rules() noexcept { return kAll; }

}  // namespace djproxy::policy
