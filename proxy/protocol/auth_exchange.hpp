#pragma once
// The authentication exchange after the handshake (and after COM_CHANGE_USER), read
// from its bytes: what a server packet asks for, and the few client packets the proxy
// answers itself. The proxy relays the exchange and never checks a password.
#include <cstdint>
#include <optional>
#include <string>

#include "proxy/protocol/wire.hpp"

namespace djproxy::protocol {

enum class AuthReply : std::uint8_t {
  kOk,                         // authenticated
  kErr,                        // refused
  kSwitchRequest,              // another plugin and a new nonce: the client answers
  kMoreData,                   // plugin data: the client answers
  kFastAuthSuccess,            // caching_sha2_password: the OK follows without a client turn
  kPerformFullAuthentication,  // caching_sha2_password: the client must send the password
  kUnexpected,                 // nothing the exchange allows
};

AuthReply classify_auth_reply(Bytes payload);

// The nonce of an AuthSwitchRequest (plugin name, then the nonce with a trailing NUL),
// which the client's next proof answers; nullopt when it carries none.
std::optional<std::string> switch_request_nonce(Bytes payload);

// caching_sha2_password: the client's whole packet asks for the server's RSA public key.
bool is_public_key_request(Bytes payload);

}  // namespace djproxy::protocol
