#include "config/descriptors.hpp"

#include <cctype>

namespace djproxy::config {

std::optional<std::size_t> find_index(std::string_view key) {
  for (std::size_t i = 0; i < kDescriptors.size(); ++i) {
    const auto& d = kDescriptors[i];
    if (d.key == key || (!d.alias_key.empty() && d.alias_key == key)) return i;
  }
  return std::nullopt;
}

const Descriptor* find_descriptor(std::string_view key) {
  auto i = find_index(key);
  return i ? &kDescriptors[*i] : nullptr;
}

std::string derived_env_name(std::string_view key) {
  std::string out = "DJPROXY_";
  for (char c : key) out += c == '.' || c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::string: return "string";
    case Kind::path: return "path";
    case Kind::boolean: return "boolean";
    case Kind::integer: return "integer";
    case Kind::port: return "port";
    case Kind::duration: return "duration";
    case Kind::bytes: return "size";
    case Kind::host: return "host[:port]";
    case Kind::endpoint: return "host:port";
    case Kind::choice: return "choice";
    case Kind::list: return "list";
  }
  return "?";
}

std::string_view to_string(Apply apply) {
  switch (apply) {
    case Apply::live: return "live";
    case Apply::new_connections: return "new connections";
    case Apply::restart: return "restart";
  }
  return "?";
}

}  // namespace djproxy::config
