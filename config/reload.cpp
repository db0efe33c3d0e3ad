#include "config/reload.hpp"

#include <utility>

namespace djproxy::config {

std::vector<Change> ReloadPlan::needing_restart() const {
  std::vector<Change> out;
  for (const auto& c : changes) {
    if (c.apply == Apply::restart) out.push_back(c);
  }
  return out;
}

ReloadPlan plan_reload(const Settings& current, LoadResult candidate) {
  ReloadPlan plan;
  plan.warnings = std::move(candidate.warnings);
  if (!candidate.ok()) {
    plan.errors = std::move(candidate.errors);
    return plan;
  }
  for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
    if (current.entry(i).value == candidate.settings->entry(i).value) continue;
    plan.changes.push_back({std::string(kDescriptors[i].key), kDescriptors[i].apply, current.display(i),
                            candidate.settings->display(i)});
  }
  plan.next = std::move(candidate.settings);
  return plan;
}

ReloadPlan reload(const Settings& current, const LoadOptions& options) { return plan_reload(current, load(options)); }

}  // namespace djproxy::config
