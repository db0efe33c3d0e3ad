#pragma once
// The first check every client command passes before a byte of it reaches the server:
// which protocol commands may pass at all. Commands that carry SQL or schema names
// then go to the policy engine (session_policy.cpp).
#include <cstdint>
#include <string>

#include "proxy/protocol/wire.hpp"

namespace djproxy::proxy {

struct GateDecision {
  enum class Action : std::uint8_t { kForward, kReject };
  Action action = Action::kForward;
  std::uint16_t code = 0;
  std::string sql_state;
  std::string message;

  static GateDecision forward() { return {}; }
  static GateDecision reject(std::uint16_t code, std::string sql_state, std::string message) {
    return {Action::kReject, code, std::move(sql_state), std::move(message)};
  }
};

class CommandGate {
 public:
  // `payload` starts with the command byte; for a command larger than the relay
  // buffer it is the leading part only.
  GateDecision check(protocol::Bytes payload) const;
};

}  // namespace djproxy::proxy
