#pragma once
// Numbers of the MySQL/MariaDB client/server protocol that the codec and the session
// share. Names follow the server sources so they can be looked up there.
#include <cstddef>
#include <cstdint>

namespace djproxy::protocol {

inline constexpr std::size_t kHeaderSize = 4;
// A payload of exactly this length means "more of the same logical packet follows".
inline constexpr std::uint32_t kMaxPayload = 0xFFFFFF;

namespace cap {
inline constexpr std::uint64_t kLongPassword = 1ULL << 0;  // MariaDB: CLIENT_MYSQL
inline constexpr std::uint64_t kFoundRows = 1ULL << 1;
inline constexpr std::uint64_t kLongFlag = 1ULL << 2;
inline constexpr std::uint64_t kConnectWithDb = 1ULL << 3;
inline constexpr std::uint64_t kNoSchema = 1ULL << 4;
inline constexpr std::uint64_t kCompress = 1ULL << 5;
inline constexpr std::uint64_t kOdbc = 1ULL << 6;
inline constexpr std::uint64_t kLocalFiles = 1ULL << 7;
inline constexpr std::uint64_t kIgnoreSpace = 1ULL << 8;
inline constexpr std::uint64_t kProtocol41 = 1ULL << 9;
inline constexpr std::uint64_t kInteractive = 1ULL << 10;
inline constexpr std::uint64_t kSsl = 1ULL << 11;
inline constexpr std::uint64_t kIgnoreSigpipe = 1ULL << 12;
inline constexpr std::uint64_t kTransactions = 1ULL << 13;
inline constexpr std::uint64_t kReserved = 1ULL << 14;
inline constexpr std::uint64_t kSecureConnection = 1ULL << 15;
inline constexpr std::uint64_t kMultiStatements = 1ULL << 16;
inline constexpr std::uint64_t kMultiResults = 1ULL << 17;
inline constexpr std::uint64_t kPsMultiResults = 1ULL << 18;
inline constexpr std::uint64_t kPluginAuth = 1ULL << 19;
inline constexpr std::uint64_t kConnectAttrs = 1ULL << 20;
inline constexpr std::uint64_t kPluginAuthLenencData = 1ULL << 21;
inline constexpr std::uint64_t kCanHandleExpiredPasswords = 1ULL << 22;
inline constexpr std::uint64_t kSessionTrack = 1ULL << 23;
inline constexpr std::uint64_t kDeprecateEof = 1ULL << 24;
inline constexpr std::uint64_t kOptionalResultsetMetadata = 1ULL << 25;
inline constexpr std::uint64_t kZstdCompression = 1ULL << 26;
inline constexpr std::uint64_t kQueryAttributes = 1ULL << 27;
inline constexpr std::uint64_t kMultiFactorAuth = 1ULL << 28;
inline constexpr std::uint64_t kCapabilityExtension = 1ULL << 29;
inline constexpr std::uint64_t kSslVerifyServerCert = 1ULL << 30;
inline constexpr std::uint64_t kRememberOptions = 1ULL << 31;
// MariaDB's extended capabilities travel in otherwise reserved bytes and are kept
// here shifted by 32 so one 64-bit set describes a connection.
inline constexpr std::uint64_t kMariaProgress = 1ULL << 32;
inline constexpr std::uint64_t kMariaComMulti = 1ULL << 33;
inline constexpr std::uint64_t kMariaStmtBulkOperations = 1ULL << 34;
inline constexpr std::uint64_t kMariaExtendedMetadata = 1ULL << 35;
inline constexpr std::uint64_t kMariaCacheMetadata = 1ULL << 36;
inline constexpr std::uint64_t kMariaBulkUnitResults = 1ULL << 37;

// What the proxy can read on the wire. Everything else is cleared before the two
// sides negotiate, so neither ever switches to a format the proxy cannot follow
// (compression, query attributes, optional metadata, progress packets, metadata cache).
inline constexpr std::uint64_t kUnderstood =
    kLongPassword | kFoundRows | kLongFlag | kConnectWithDb | kNoSchema | kOdbc | kLocalFiles |
    kIgnoreSpace | kProtocol41 | kInteractive | kSsl | kIgnoreSigpipe | kTransactions | kReserved |
    kSecureConnection | kMultiStatements | kMultiResults | kPsMultiResults | kPluginAuth |
    kConnectAttrs | kPluginAuthLenencData | kCanHandleExpiredPasswords | kSessionTrack |
    kDeprecateEof | kSslVerifyServerCert | kRememberOptions | kMariaStmtBulkOperations |
    kMariaExtendedMetadata;
}  // namespace cap

// The first byte of a packet in the authentication exchange, and the bytes inside
// caching_sha2_password's AuthMoreData (sql/auth/sha2_password.cc).
namespace auth {
inline constexpr std::uint8_t kOk = 0x00;                // OK_Packet: authenticated
inline constexpr std::uint8_t kErr = 0xFF;               // ERR_Packet: refused
inline constexpr std::uint8_t kMoreData = 0x01;          // AuthMoreData: plugin data follows
inline constexpr std::uint8_t kSwitchRequest = 0xFE;     // AuthSwitchRequest: plugin name, new nonce
// caching_sha2_password, the byte after kMoreData from the server:
inline constexpr std::uint8_t kFastAuthSuccess = 0x03;   // the cached proof matched; OK follows
inline constexpr std::uint8_t kPerformFullAuthentication = 0x04;  // the password is needed
// caching_sha2_password, the client's whole packet: send me the server's RSA public key
// (answered with kMoreData and the PEM text).
inline constexpr std::uint8_t kRequestPublicKey = 0x02;
}  // namespace auth

namespace status {
inline constexpr std::uint16_t kInTrans = 0x0001;
inline constexpr std::uint16_t kAutocommit = 0x0002;
inline constexpr std::uint16_t kMoreResultsExist = 0x0008;
inline constexpr std::uint16_t kCursorExists = 0x0040;
inline constexpr std::uint16_t kLastRowSent = 0x0080;
inline constexpr std::uint16_t kSessionStateChanged = 0x4000;
}  // namespace status

enum class Command : std::uint8_t {
  kSleep = 0x00,
  kQuit = 0x01,
  kInitDb = 0x02,
  kQuery = 0x03,
  kFieldList = 0x04,
  kCreateDb = 0x05,
  kDropDb = 0x06,
  kRefresh = 0x07,
  kShutdown = 0x08,
  kStatistics = 0x09,
  kProcessInfo = 0x0a,
  kConnect = 0x0b,
  kProcessKill = 0x0c,
  kDebug = 0x0d,
  kPing = 0x0e,
  kTime = 0x0f,
  kDelayedInsert = 0x10,
  kChangeUser = 0x11,
  kBinlogDump = 0x12,
  kTableDump = 0x13,
  kConnectOut = 0x14,
  kRegisterSlave = 0x15,
  kStmtPrepare = 0x16,
  kStmtExecute = 0x17,
  kStmtSendLongData = 0x18,
  kStmtClose = 0x19,
  kStmtReset = 0x1a,
  kSetOption = 0x1b,
  kStmtFetch = 0x1c,
  kDaemon = 0x1d,
  kBinlogDumpGtid = 0x1e,
  kResetConnection = 0x1f,
  kStmtBulkExecute = 0xfa,  // MariaDB
};

const char* command_name(std::uint8_t command);

// Server error codes the proxy itself sends.
namespace err {
inline constexpr std::uint16_t kConCount = 1040;        // ER_CON_COUNT_ERROR, 08004
inline constexpr std::uint16_t kHandshake = 1043;       // ER_HANDSHAKE_ERROR, 08S01
inline constexpr std::uint16_t kDbAccessDenied = 1044;  // ER_DBACCESS_DENIED_ERROR, 42000
inline constexpr std::uint16_t kAccessDenied = 1045;    // ER_ACCESS_DENIED_ERROR, 28000
inline constexpr std::uint16_t kUnknownCommand = 1047;  // ER_UNKNOWN_COM_ERROR, 08S01
inline constexpr std::uint16_t kNetPacketTooLarge = 1153;  // ER_NET_PACKET_TOO_LARGE, 08S01
inline constexpr std::uint16_t kNetPacketsOutOfOrder = 1156;  // ER_NET_PACKETS_OUT_OF_ORDER, 08S01
inline constexpr std::uint16_t kTableAccessDenied = 1142;  // ER_TABLEACCESS_DENIED_ERROR, 42000
inline constexpr std::uint16_t kSpecificAccessDenied = 1227;  // ER_SPECIFIC_ACCESS_DENIED_ERROR, 42000
inline constexpr std::uint16_t kServerShutdown = 1053;  // ER_SERVER_SHUTDOWN, 08S01
// The backend is unreachable. Not CR_CONN_HOST_ERROR (2003, what MySQL Router sends):
// codes 2000-2999 are the client library's own, and libmariadb (the mariadb CLI, the
// C API) reads one arriving from the wire as a malformed packet (2027).
inline constexpr std::uint16_t kCannotConnect = 1429;   // ER_CONNECT_TO_FOREIGN_DATA_SOURCE, HY000
inline constexpr std::uint16_t kIdleTimeout = 4031;     // ER_CLIENT_INTERACTION_TIMEOUT
// The backend went away during authentication: CR_SERVER_LOST, a client library's own
// code (see kCannotConnect), which the proxy has always sent there.
inline constexpr std::uint16_t kServerLost = 2013;      // CR_SERVER_LOST, HY000
}  // namespace err

}  // namespace djproxy::protocol
