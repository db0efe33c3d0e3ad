#pragma once
// Records the audit library writes on its own account (format_line and append_escaped,
// for the sessions' events, are in audit_log.hpp).
#include <cstdint>
#include <string>

namespace djproxy::audit {

// The record that tells a DBA reading the log that `lost` events are missing before it.
std::string gap_line(std::uint64_t lost);

}  // namespace djproxy::audit
