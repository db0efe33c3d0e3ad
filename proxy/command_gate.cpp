#include "proxy/command_gate.hpp"

#include <fmt/format.h>

#include "proxy/protocol/constants.hpp"

namespace djproxy::proxy {

using protocol::Command;

GateDecision CommandGate::check(protocol::Bytes payload) const {
  const std::uint8_t command = payload[0];
  switch (static_cast<Command>(command)) {
    case Command::kQuit:
    case Command::kInitDb:
    case Command::kQuery:
    case Command::kFieldList:
    case Command::kStatistics:
    case Command::kProcessKill:
    case Command::kPing:
    case Command::kChangeUser:
    case Command::kStmtPrepare:
    case Command::kStmtExecute:
    case Command::kStmtSendLongData:
    case Command::kStmtClose:
    case Command::kStmtReset:
    case Command::kSetOption:
    case Command::kStmtFetch:
    case Command::kResetConnection:
    case Command::kStmtBulkExecute:
      return GateDecision::forward();
    default:
      // Replication, shutdown, the deprecated schema commands and anything unknown
      // are never forwarded: the proxy cannot follow what they would switch the
      // connection into.
      return GateDecision::reject(
          protocol::err::kUnknownCommand, "08S01",
          fmt::format("djproxy: command {} (0x{:02x}) is not allowed through the proxy",
                      protocol::command_name(command), command));
  }
}

}  // namespace djproxy::proxy
