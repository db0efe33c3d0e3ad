#include "config/value.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <utility>

namespace djproxy::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Built with append rather than "'" + std::string(s) + "'": GCC 12 at -O3 reports a
// false -Wrestrict overlap inside the inlined operator+(const char*, std::string&&).
std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '\'').append(s).append(1, '\'');
  return out;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> parse_uint(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Split "a|b|c" without allocating.
template <class F>
void for_each_choice(std::string_view choices, F&& f) {
  while (!choices.empty()) {
    auto bar = choices.find('|');
    f(choices.substr(0, bar));
    if (bar == std::string_view::npos) break;
    choices.remove_prefix(bar + 1);
  }
}

std::optional<std::string> match_choice(std::string_view choices, std::string_view text) {
  std::optional<std::string> hit;
  for_each_choice(choices, [&](std::string_view c) {
    if (!hit && iequals(c, text)) hit = std::string(c);
  });
  return hit;
}

std::string choices_text(std::string_view choices) {
  std::string out;
  for_each_choice(choices, [&](std::string_view c) {
    if (!out.empty()) out += ", ";
    out += c;
  });
  return out;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// The list kind reads both shapes; every other kind wants a single text.
Parsed parse_list(const Descriptor& d, const RawValue& raw) {
  std::vector<std::string> items;
  if (const auto* text = std::get_if<std::string>(&raw)) {
    items = split_list(*text);
  } else {
    for (const auto& item : std::get<std::vector<std::string>>(raw)) {
      auto t = trim(item);
      if (!t.empty()) items.emplace_back(t);
    }
  }
  if (!d.choices.empty()) {
    for (auto& item : items) {
      auto hit = match_choice(d.choices, item);
      if (!hit) return {{}, quoted(item) + " is not one of: " + choices_text(d.choices)};
      item = *hit;
    }
  }
  return {std::move(items), {}};
}

Parsed parse_text(const Descriptor& d, std::string_view original) {
  // Free text keeps its spaces (a password may have them); everything else is a token.
  auto text = trim(original);
  switch (d.kind) {
    case Kind::string:
      return {std::string(original), {}};
    case Kind::path:
      if (text.empty()) return {{}, "an empty path"};
      return {std::string(text), {}};
    case Kind::boolean:
      if (auto b = parse_bool(text)) return {*b, {}};
      return {{}, quoted(text) + " is not a boolean (true 1 yes on t y / false 0 no off f n)"};
    case Kind::integer: {
      auto v = parse_int(text);
      if (!v) return {{}, quoted(text) + " is not a whole number"};
      if (*v < d.min || *v > d.max) {
        return {{}, quoted(text) + " is outside " + std::to_string(d.min) + ".." + std::to_string(d.max)};
      }
      return {*v, {}};
    }
    case Kind::port: {
      auto v = parse_int(text);
      if (!v || *v < 1 || *v > 65535) return {{}, quoted(text) + " is not a port number (1..65535)"};
      return {*v, {}};
    }
    case Kind::duration:
      if (auto v = parse_duration(text)) return {*v, {}};
      return {{}, quoted(text) + " is not a duration (e.g. 500ms, 30s, 10m, 24h, 1h30m)"};
    case Kind::bytes: {
      auto v = parse_bytes(text);
      if (!v) return {{}, quoted(text) + " is not a size (e.g. 4096, 100MiB, 1GiB)"};
      if (*v < d.min || *v > d.max) {
        return {{}, quoted(text) + " is outside " + format_bytes(d.min) + ".." + format_bytes(d.max)};
      }
      return {*v, {}};
    }
    case Kind::host:
    case Kind::endpoint: {
      auto r = parse_host_port(text, d.kind == Kind::endpoint);
      if (auto* e = std::get_if<Endpoint>(&r)) return {std::move(*e), {}};
      return {{}, std::get<std::string>(r)};
    }
    case Kind::choice:
      if (auto hit = match_choice(d.choices, text)) return {std::move(*hit), {}};
      return {{}, quoted(text) + " is not one of: " + choices_text(d.choices)};
    case Kind::list:
      break;  // handled by parse_list
  }
  return {{}, "internal: unhandled kind"};
}

struct Unit {
  std::string_view name;
  std::int64_t factor;
};

}  // namespace

std::string Endpoint::to_string() const {
  std::string out;
  if (host.find(':') != std::string::npos) {
    out.append(1, '[').append(host).append(1, ']');  // an IPv6 literal
  } else {
    out = host;
  }
  if (port != 0) out.append(1, ':').append(std::to_string(port));
  return out;
}

std::optional<bool> parse_bool(std::string_view text) {
  static constexpr std::array<std::string_view, 6> yes{"true", "1", "yes", "on", "t", "y"};
  static constexpr std::array<std::string_view, 6> no{"false", "0", "no", "off", "f", "n"};
  text = trim(text);
  for (auto y : yes)
    if (iequals(text, y)) return true;
  for (auto n : no)
    if (iequals(text, n)) return false;
  return std::nullopt;
}

std::optional<Duration> parse_duration(std::string_view text) {
  static constexpr std::array<Unit, 5> units{{{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
  text = trim(text);
  if (text.empty()) return std::nullopt;
  if (auto bare = parse_uint(text)) {
    // A bare number is seconds, as in MySQL's own timeout variables.
    if (*bare > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 1000)) return std::nullopt;
    return Duration{static_cast<std::int64_t>(*bare) * 1000};
  }
  std::int64_t total = 0;
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    auto number = parse_uint(text.substr(0, digits));
    if (!number) return std::nullopt;
    text.remove_prefix(digits);
    std::size_t letters = 0;
    while (letters < text.size() && std::isalpha(static_cast<unsigned char>(text[letters]))) ++letters;
    auto unit_text = text.substr(0, letters);
    text.remove_prefix(letters);
    const Unit* unit = nullptr;
    for (const auto& u : units)
      if (u.name == unit_text) unit = &u;
    if (unit == nullptr) return std::nullopt;
    if (*number > static_cast<std::uint64_t>((std::numeric_limits<std::int64_t>::max() - total) / unit->factor)) {
      return std::nullopt;
    }
    total += static_cast<std::int64_t>(*number) * unit->factor;
  }
  return Duration{total};
}

std::optional<std::int64_t> parse_bytes(std::string_view text) {
  static constexpr std::int64_t k = 1024;
  static constexpr std::array<Unit, 13> units{{{"", 1},
                                               {"b", 1},
                                               {"k", k},
                                               {"kib", k},
                                               {"kb", 1000},
                                               {"m", k * k},
                                               {"mib", k * k},
                                               {"mb", 1000 * 1000},
                                               {"g", k * k * k},
                                               {"gib", k * k * k},
                                               {"gb", 1000 * 1000 * 1000},
                                               {"tib", k * k * k * k},
                                               {"tb", std::int64_t{1000} * 1000 * 1000 * 1000}}};
  text = trim(text);
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  auto number = parse_uint(text.substr(0, digits));
  if (!number) return std::nullopt;
  auto unit_text = trim(text.substr(digits));
  for (const auto& u : units) {
    if (iequals(u.name, unit_text)) {
      if (*number > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / u.factor)) return std::nullopt;
      return static_cast<std::int64_t>(*number) * u.factor;
    }
  }
  return std::nullopt;
}

std::variant<Endpoint, std::string> parse_host_port(std::string_view text, bool port_required) {
  text = trim(text);
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return quoted(text) + ": '[' without ']'";
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return quoted(text) + ": expected ':port' after ']'";
      port = rest.substr(1);
      has_port = true;
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    host = text;  // a bare IPv6 literal: its colons are not a port separator
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  } else {
    host = text;
  }
  if (host.empty()) return quoted(text) + ": no host";
  if (host.find(':') != std::string_view::npos) {
    // Colons in a host only make sense in an IPv6 literal (maybe with a %zone).
    std::string address(host.substr(0, host.find('%')));
    in6_addr parsed{};
    if (::inet_pton(AF_INET6, address.c_str(), &parsed) != 1) {
      return quoted(text) + ": not an IPv6 address (write [address]:port)";
    }
  }
  if (std::any_of(host.begin(), host.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '[' || c == ']'; })) {
    return quoted(text) + ": not a host name or address";
  }
  Endpoint e{std::string(host), 0};
  if (has_port) {
    auto p = parse_int(port);
    if (!p || *p < 1 || *p > 65535) return quoted(text) + ": " + quoted(port) + " is not a port number (1..65535)";
    e.port = static_cast<std::uint16_t>(*p);
  } else if (port_required) {
    return quoted(text) + ": expected host:port";
  }
  return e;
}

std::string format_duration(Duration d) {
  // Hours are the largest unit printed: "24h" reads better in a timeout than "1d".
  static constexpr std::array<Unit, 4> units{{{"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}}};
  auto ms = d.count();
  if (ms == 0) return "0";
  std::string out;
  for (const auto& u : units) {
    if (ms >= u.factor) {
      out += std::to_string(ms / u.factor) + std::string(u.name);
      ms %= u.factor;
    }
  }
  return out;
}

std::string format_bytes(std::int64_t n) {
  static constexpr std::array<Unit, 4> units{{{"TiB", std::int64_t{1} << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}};
  for (const auto& u : units) {
    if (n != 0 && n % u.factor == 0) return std::to_string(n / u.factor) + std::string(u.name);
  }
  return std::to_string(n);
}

Parsed parse_value(const Descriptor& d, const RawValue& raw) {
  if (d.kind == Kind::list) return parse_list(d, raw);
  if (const auto* text = std::get_if<std::string>(&raw)) return parse_text(d, *text);
  return {{}, "a list where a single value is expected"};
}

std::string format_value(const Descriptor& d, const Value& v) {
  struct Visitor {
    const Descriptor& d;
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t n) const { return d.kind == Kind::bytes ? format_bytes(n) : std::to_string(n); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(Duration x) const { return format_duration(x); }
    std::string operator()(const std::vector<std::string>& items) const {
      std::string out;
      for (const auto& item : items) {
        if (!out.empty()) out += ",";
        out += item;
      }
      return out;
    }
    std::string operator()(const Endpoint& e) const { return e.to_string(); }
  };
  return std::visit(Visitor{d}, v);
}

bool is_loopback_host(std::string_view host) {
  return iequals(host, "localhost") || iequals(host, "localhost.localdomain") || host == "::1" ||
         host.starts_with("127.");
}

bool is_wildcard_host(std::string_view host) { return host == "0.0.0.0" || host == "::" || host == "*"; }

}  // namespace djproxy::config
