#pragma once
// The settings reference for the README, generated from the descriptor table.

#include <string>

namespace djproxy::config {

std::string settings_reference_markdown();

}  // namespace djproxy::config
