#pragma once
// The format of the proxy's own (operational) log. Messages carry client-supplied
// bytes: user names, schema names, statements quoted in rejection messages. Every
// message is written through audit::append_escaped, so a newline, a carriage return
// or a NUL byte sent by a client shows up as \n, \r, \u0000 inside its one line and
// can neither forge a line nor put control bytes in the file.
#include <memory>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>

namespace djproxy {

// The operational log's line format: time, level, the escaped message.
inline constexpr const char* kLogPattern = "%Y-%m-%dT%H:%M:%S.%f%z %^%l%$ %*";

// A formatter for kLogPattern: '%*' is the message, escaped.
std::unique_ptr<spdlog::formatter> make_log_formatter();

// Gives `logger` that formatter (main() does it for the default logger).
void use_escaped_log_format(spdlog::logger& logger);

}  // namespace djproxy
