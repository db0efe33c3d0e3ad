#include "policy/protocol_command.hpp"

namespace djproxy::policy {

const char* command_name(std::uint8_t command) noexcept {
  using C = ProtocolCommand;
  switch (static_cast<C>(command)) {
    case C::sleep: return "COM_SLEEP";
    case C::quit: return "COM_QUIT";
    case C::init_db: return "COM_INIT_DB";
    case C::query: return "COM_QUERY";
    case C::field_list: return "COM_FIELD_LIST";
    case C::create_db: return "COM_CREATE_DB";
    case C::drop_db: return "COM_DROP_DB";
    case C::refresh: return "COM_REFRESH";
    case C::shutdown: return "COM_SHUTDOWN";
    case C::statistics: return "COM_STATISTICS";
    case C::process_info: return "COM_PROCESS_INFO";
    case C::connect: return "COM_CONNECT";
    case C::process_kill: return "COM_PROCESS_KILL";
    case C::debug: return "COM_DEBUG";
    case C::ping: return "COM_PING";
    case C::time: return "COM_TIME";
    case C::delayed_insert: return "COM_DELAYED_INSERT";
    case C::change_user: return "COM_CHANGE_USER";
    case C::binlog_dump: return "COM_BINLOG_DUMP";
    case C::table_dump: return "COM_TABLE_DUMP";
    case C::connect_out: return "COM_CONNECT_OUT";
    case C::register_slave: return "COM_REGISTER_SLAVE";
    case C::stmt_prepare: return "COM_STMT_PREPARE";
    case C::stmt_execute: return "COM_STMT_EXECUTE";
    case C::stmt_send_long_data: return "COM_STMT_SEND_LONG_DATA";
    case C::stmt_close: return "COM_STMT_CLOSE";
    case C::stmt_reset: return "COM_STMT_RESET";
    case C::set_option: return "COM_SET_OPTION";
    case C::stmt_fetch: return "COM_STMT_FETCH";
    case C::daemon: return "COM_DAEMON";
    case C::binlog_dump_gtid: return "COM_BINLOG_DUMP_GTID";
    case C::reset_connection: return "COM_RESET_CONNECTION";
    case C::stmt_bulk_execute: return "COM_STMT_BULK_EXECUTE";
  }
  return "COM_UNKNOWN";
}

}  // namespace djproxy::policy
