#pragma once
// Typed values and the text parsers every source shares, so that `DJ_PORT=abc`,
// `"database.port": "abc"` and `port = "abc"` fail with the same message.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/descriptors.hpp"

namespace djproxy::config {

struct Endpoint {
  std::string host;        // without brackets, also for IPv6 literals
  std::uint16_t port = 0;  // 0: none given (only for Kind::host)

  // host:port, with brackets around an IPv6 literal
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

using Duration = std::chrono::milliseconds;

// monostate: unset. Kind → alternative: boolean→bool; integer, port, bytes→int64;
// string, path, choice→string; duration→Duration; list→vector; host, endpoint→Endpoint.
using Value = std::variant<std::monostate, bool, std::int64_t, std::string, Duration,
                           std::vector<std::string>, Endpoint>;

// What a source hands over before typing: text, or a list from a file's array.
using RawValue = std::variant<std::string, std::vector<std::string>>;

struct Parsed {
  Value value;
  std::string error;  // empty when value is good
  bool ok() const { return error.empty(); }
};

Parsed parse_value(const Descriptor& d, const RawValue& raw);

// The individual parsers, exposed for tests and for other parts that read the same notations.
std::optional<bool> parse_bool(std::string_view text);
std::optional<Duration> parse_duration(std::string_view text);
std::optional<std::int64_t> parse_bytes(std::string_view text);
// host, host:port, [v6]:port, [v6], bare v6 (no port). Error text on failure.
std::variant<Endpoint, std::string> parse_host_port(std::string_view text, bool port_required);

std::string format_duration(Duration d);
std::string format_bytes(std::int64_t n);
// The canonical text of a value: what `djproxy config` prints and what parses back to it.
std::string format_value(const Descriptor& d, const Value& v);

bool is_loopback_host(std::string_view host);
bool is_wildcard_host(std::string_view host);

}  // namespace djproxy::config
