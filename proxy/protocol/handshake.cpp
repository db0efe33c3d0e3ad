#include "proxy/protocol/handshake.hpp"

#include "proxy/protocol/constants.hpp"

namespace djproxy::protocol {
namespace {
std::string str(Bytes b) { return std::string(as_chars(b)); }

// Reserved bytes 19..22 of the response (and the last 4 of the greeting's 10) carry
// MariaDB's extended capabilities when CLIENT_MYSQL is clear.
std::uint64_t with_extended(std::uint64_t base, std::uint32_t extended) {
  return (base & 1) ? base : base | (std::uint64_t{extended} << 32);
}

// Connection attributes: their total length, then key and value as length-encoded
// strings. Null when they overrun the packet or their own length.
std::optional<std::vector<std::pair<std::string, std::string>>> read_attributes(Reader& r) {
  Reader attrs(r.lenenc_bytes());
  std::vector<std::pair<std::string, std::string>> out;
  while (r.ok() && attrs.ok() && !attrs.at_end()) {
    std::string key = str(attrs.lenenc_bytes());
    std::string value = str(attrs.lenenc_bytes());
    out.emplace_back(std::move(key), std::move(value));
  }
  if (!r.ok() || !attrs.ok()) return std::nullopt;
  return out;
}

void write_attributes(Writer& w, const std::vector<std::pair<std::string, std::string>>& attributes) {
  std::string encoded;
  Writer a(encoded);
  for (const auto& [key, value] : attributes) {
    a.lenenc_bytes(key);
    a.lenenc_bytes(value);
  }
  w.lenenc_bytes(encoded);
}
}  // namespace

std::optional<Greeting> Greeting::parse(Bytes payload) {
  Reader r(payload);
  Greeting g;
  g.protocol_version = r.u8();
  if (!r.ok() || g.protocol_version != 10) return std::nullopt;
  g.server_version = str(r.nul_terminated());
  g.connection_id = r.u32();
  g.auth_data_1 = str(r.bytes(8));
  r.skip(1);
  std::uint64_t caps = r.u16();
  if (r.at_end()) {  // pre-4.1 servers stop here; the proxy needs PROTOCOL_41
    return std::nullopt;
  }
  g.charset = r.u8();
  g.status = r.u16();
  caps |= std::uint64_t{r.u16()} << 16;
  g.auth_data_length = r.u8();
  r.skip(6);
  const std::uint32_t extended = r.u32();
  g.capabilities = with_extended(caps, extended);
  if (caps & cap::kSecureConnection) {
    const std::size_t n = g.auth_data_length > 8 ? std::max<std::size_t>(13, g.auth_data_length - 8) : 13;
    g.auth_data_2 = str(r.bytes(std::min(n, r.remaining())));
  }
  if (caps & cap::kPluginAuth) {
    g.has_auth_plugin = true;
    Reader probe = r;
    Bytes name = probe.nul_terminated();
    g.auth_plugin = probe.ok() ? str(name) : str(r.rest());  // some 5.5 servers omit the NUL
  }
  if (!r.ok() || !(caps & cap::kProtocol41)) return std::nullopt;
  return g;
}

void Greeting::encode(std::string& payload) const {
  Writer w(payload);
  w.u8(protocol_version);
  w.nul_terminated(server_version);
  w.u32(connection_id);
  w.bytes(auth_data_1);
  w.u8(0);
  w.u16(static_cast<std::uint16_t>(capabilities));
  w.u8(charset);
  w.u16(status);
  w.u16(static_cast<std::uint16_t>(capabilities >> 16));
  w.u8(auth_data_length);
  w.zeros(6);
  w.u32(mariadb() ? static_cast<std::uint32_t>(capabilities >> 32) : 0);
  if (capabilities & cap::kSecureConnection) w.bytes(auth_data_2);
  if (has_auth_plugin) w.nul_terminated(auth_plugin);
}

std::optional<HandshakeResponse> HandshakeResponse::parse_ssl_request(Bytes payload) {
  if (payload.size() != kSslRequestSize) return std::nullopt;
  Reader r(payload);
  HandshakeResponse h;
  const std::uint32_t caps = r.u32();
  h.max_packet_size = r.u32();
  h.charset = r.u8();
  r.skip(19);
  h.capabilities = with_extended(caps, r.u32());
  if (!r.ok() || !(caps & cap::kSsl) || !(caps & cap::kProtocol41)) return std::nullopt;
  return h;
}

std::optional<HandshakeResponse> HandshakeResponse::parse(Bytes payload) {
  Reader r(payload);
  HandshakeResponse h;
  const std::uint32_t caps = r.u32();
  if (!(caps & cap::kProtocol41)) return std::nullopt;  // HandshakeResponse320 is not supported
  h.max_packet_size = r.u32();
  h.charset = r.u8();
  r.skip(19);
  h.capabilities = with_extended(caps, r.u32());
  h.user = str(r.nul_terminated());
  if (caps & cap::kPluginAuthLenencData) {
    h.auth_response = str(r.lenenc_bytes());
  } else if (caps & cap::kSecureConnection) {
    h.auth_response = str(r.bytes(r.u8()));
  } else {
    h.auth_response = str(r.nul_terminated());
  }
  // Clients may end the packet after any of the optional fields.
  if ((caps & cap::kConnectWithDb) && !r.at_end()) h.database = str(r.nul_terminated());
  if ((caps & cap::kPluginAuth) && !r.at_end()) h.auth_plugin = str(r.nul_terminated());
  if ((caps & cap::kConnectAttrs) && !r.at_end()) {
    auto attributes = read_attributes(r);
    if (!attributes) return std::nullopt;
    h.attributes = std::move(*attributes);
  }
  if ((caps & cap::kZstdCompression) && !r.at_end()) h.zstd_level = r.u8();
  if (!r.ok()) return std::nullopt;
  return h;
}

void HandshakeResponse::encode_ssl_request(std::string& payload) const {
  Writer w(payload);
  w.u32(static_cast<std::uint32_t>(capabilities));
  w.u32(max_packet_size);
  w.u8(charset);
  w.zeros(19);
  w.u32((capabilities & 1) ? 0 : static_cast<std::uint32_t>(capabilities >> 32));
}

void HandshakeResponse::encode(std::string& payload) const {
  encode_ssl_request(payload);
  Writer w(payload);
  w.nul_terminated(user);
  if (capabilities & cap::kPluginAuthLenencData) {
    w.lenenc_bytes(auth_response);
  } else if (capabilities & cap::kSecureConnection) {
    w.u8(static_cast<std::uint8_t>(auth_response.size()));
    w.bytes(auth_response);
  } else {
    w.nul_terminated(auth_response);
  }
  if (capabilities & cap::kConnectWithDb) w.nul_terminated(database);
  if (capabilities & cap::kPluginAuth) w.nul_terminated(auth_plugin);
  if (capabilities & cap::kConnectAttrs) write_attributes(w, attributes);
  if (capabilities & cap::kZstdCompression) w.u8(zstd_level);
}

std::optional<ChangeUser> ChangeUser::parse(Bytes payload, std::uint64_t capabilities) {
  Reader r(payload);
  if (r.u8() != 0x11) return std::nullopt;
  ChangeUser c;
  c.user = str(r.nul_terminated());
  if (capabilities & cap::kSecureConnection) {
    c.auth_response = str(r.bytes(r.u8()));
  } else {
    c.auth_response = str(r.nul_terminated());
  }
  c.database = str(r.nul_terminated());
  // Older clients end the packet here; the rest comes in this order, each optional.
  if (!r.at_end()) c.charset = r.u16();
  if ((capabilities & cap::kPluginAuth) && !r.at_end()) c.auth_plugin = str(r.nul_terminated());
  if ((capabilities & cap::kConnectAttrs) && !r.at_end()) {
    c.attributes = read_attributes(r);
    if (!c.attributes) return std::nullopt;
  }
  // Bytes after the attributes mean nothing to the server and are not passed on.
  if (!r.ok()) return std::nullopt;
  return c;
}

void ChangeUser::encode(std::string& payload, std::uint64_t capabilities) const {
  Writer w(payload);
  w.u8(0x11);
  w.nul_terminated(user);
  if (capabilities & cap::kSecureConnection) {
    w.u8(static_cast<std::uint8_t>(auth_response.size()));
    w.bytes(auth_response);
  } else {
    w.nul_terminated(auth_response);
  }
  w.nul_terminated(database);
  if (!charset) return;
  w.u16(*charset);
  if (capabilities & cap::kPluginAuth) {
    if (!auth_plugin) return;  // attributes cannot come without the plugin before them
    w.nul_terminated(*auth_plugin);
  }
  if ((capabilities & cap::kConnectAttrs) && attributes) write_attributes(w, *attributes);
}

}  // namespace djproxy::protocol
