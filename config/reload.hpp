#pragma once
// Deciding what a SIGHUP reload may do: a candidate that fails to load keeps the
// old settings; one that loads is accepted, with each change labelled by when it
// takes effect, so the relay can apply it or log that it needs a restart.

#include <memory>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace djproxy::config {

struct Change {
  std::string key;
  Apply apply = Apply::live;
  std::string before;  // display text: secrets as ***, unset as ""
  std::string after;
};

struct ReloadPlan {
  std::shared_ptr<const Settings> next;  // null: keep the current settings
  std::vector<std::string> errors;       // why the candidate was refused
  std::vector<std::string> warnings;
  std::vector<Change> changes;           // every setting whose value differs

  bool accepted() const { return next != nullptr; }
  // Changes that the running proxy cannot apply (listen addresses, threads, ...).
  std::vector<Change> needing_restart() const;
};

// Compares a loaded candidate with the running settings.
ReloadPlan plan_reload(const Settings& current, LoadResult candidate);

// Loads with the same options as at start (the environment snapshot may be refreshed
// by the caller) and plans the reload.
ReloadPlan reload(const Settings& current, const LoadOptions& options);

}  // namespace djproxy::config
