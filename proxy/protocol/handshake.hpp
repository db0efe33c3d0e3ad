#pragma once
// The connection-phase messages the proxy reads and rewrites: the server's greeting
// (Protocol::HandshakeV10), the client's SSLRequest and HandshakeResponse41.
// Each parses itself from a payload and encodes itself back; an unchanged message
// encodes to the same bytes it was parsed from.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proxy/protocol/wire.hpp"

namespace djproxy::protocol {

struct Greeting {
  std::uint8_t protocol_version = 10;
  std::string server_version;
  std::uint32_t connection_id = 0;
  std::string auth_data_1;  // the first 8 bytes of the scramble
  std::string auth_data_2;  // the rest, as sent (usually 12 bytes and a NUL)
  std::uint64_t capabilities = 0;  // MariaDB's extended set shifted into bits 32..63
  std::uint8_t charset = 0;
  std::uint16_t status = 0;
  std::uint8_t auth_data_length = 0;
  std::string auth_plugin;
  bool has_auth_plugin = false;

  // MariaDB clears CLIENT_MYSQL in its greeting and sends extended capabilities.
  bool mariadb() const { return (capabilities & 1) == 0; }

  static std::optional<Greeting> parse(Bytes payload);
  void encode(std::string& payload) const;
};

struct HandshakeResponse {
  std::uint64_t capabilities = 0;  // MariaDB's extended set shifted into bits 32..63
  std::uint32_t max_packet_size = 0;
  std::uint8_t charset = 0;
  std::string user;
  std::string auth_response;
  std::string database;
  std::string auth_plugin;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::uint8_t zstd_level = 0;

  static constexpr std::size_t kSslRequestSize = 32;

  static std::optional<HandshakeResponse> parse(Bytes payload);
  // An SSLRequest is the first 32 bytes of a HandshakeResponse41 with CLIENT_SSL set.
  static std::optional<HandshakeResponse> parse_ssl_request(Bytes payload);
  void encode(std::string& payload) const;
  void encode_ssl_request(std::string& payload) const;
};

// COM_CHANGE_USER, whole: the gate reads who and which schema, and the proxy puts the
// real client's address into its connection attributes as it does at login.
struct ChangeUser {
  std::string user;
  std::string auth_response;
  std::string database;
  // The fields after the schema, each present only when the client sent it.
  std::optional<std::uint16_t> charset;
  std::optional<std::string> auth_plugin;
  std::optional<std::vector<std::pair<std::string, std::string>>> attributes;

  // `capabilities` are the client's: they decide how the auth data is framed and which
  // optional fields may follow.
  static std::optional<ChangeUser> parse(Bytes payload, std::uint64_t capabilities);
  // The whole payload, command byte first; `capabilities` as for parse.
  void encode(std::string& payload, std::uint64_t capabilities) const;
};

}  // namespace djproxy::protocol
