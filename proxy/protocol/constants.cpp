#include "proxy/protocol/constants.hpp"

namespace djproxy::protocol {

const char* command_name(std::uint8_t command) {
  switch (static_cast<Command>(command)) {
    case Command::kSleep: return "COM_SLEEP";
    case Command::kQuit: return "COM_QUIT";
    case Command::kInitDb: return "COM_INIT_DB";
    case Command::kQuery: return "COM_QUERY";
    case Command::kFieldList: return "COM_FIELD_LIST";
    case Command::kCreateDb: return "COM_CREATE_DB";
    case Command::kDropDb: return "COM_DROP_DB";
    case Command::kRefresh: return "COM_REFRESH";
    case Command::kShutdown: return "COM_SHUTDOWN";
    case Command::kStatistics: return "COM_STATISTICS";
    case Command::kProcessInfo: return "COM_PROCESS_INFO";
    case Command::kConnect: return "COM_CONNECT";
    case Command::kProcessKill: return "COM_PROCESS_KILL";
    case Command::kDebug: return "COM_DEBUG";
    case Command::kPing: return "COM_PING";
    case Command::kTime: return "COM_TIME";
    case Command::kDelayedInsert: return "COM_DELAYED_INSERT";
    case Command::kChangeUser: return "COM_CHANGE_USER";
    case Command::kBinlogDump: return "COM_BINLOG_DUMP";
    case Command::kTableDump: return "COM_TABLE_DUMP";
    case Command::kConnectOut: return "COM_CONNECT_OUT";
    case Command::kRegisterSlave: return "COM_REGISTER_SLAVE";
    case Command::kStmtPrepare: return "COM_STMT_PREPARE";
    case Command::kStmtExecute: return "COM_STMT_EXECUTE";
    case Command::kStmtSendLongData: return "COM_STMT_SEND_LONG_DATA";
    case Command::kStmtClose: return "COM_STMT_CLOSE";
    case Command::kStmtReset: return "COM_STMT_RESET";
    case Command::kSetOption: return "COM_SET_OPTION";
    case Command::kStmtFetch: return "COM_STMT_FETCH";
    case Command::kDaemon: return "COM_DAEMON";
    case Command::kBinlogDumpGtid: return "COM_BINLOG_DUMP_GTID";
    case Command::kResetConnection: return "COM_RESET_CONNECTION";
    case Command::kStmtBulkExecute: return "COM_STMT_BULK_EXECUTE";
  }
  return "COM_UNKNOWN";
}

}  // namespace djproxy::protocol
