#include "proxy/protocol/response_tracker.hpp"

#include <gtest/gtest.h>

#include "tests/protocol/bytes.hpp"

namespace djproxy::protocol {
namespace {
using testing::hex;
using V = ResponseTracker::Verdict;

struct Step {
  std::string leading;  // hex of the payload's leading bytes (the whole payload for status packets)
  V expected;
  std::uint32_t length = 0;  // 0: the length of `leading`
};

struct TrackerCase {
  const char* name;
  Command command;
  bool deprecate_eof;
  std::vector<Step> steps;
};

// Status packets: OK "00 00 00 SS SS 00 00", EOF "fe 00 00 SS SS", ERR "ff ...".
const std::string kOk = "00 00 00 02 00 00 00";
const std::string kOkMore = "00 00 00 0a 00 00 00";  // SERVER_MORE_RESULTS_EXISTS
const std::string kEof = "fe 00 00 02 00";
const std::string kEofMore = "fe 00 00 0a 00";
const std::string kEofCursor = "fe 00 00 42 00";     // SERVER_STATUS_CURSOR_EXISTS
const std::string kEofOk = "fe 00 00 02 00 00 00";   // OK-as-EOF under CLIENT_DEPRECATE_EOF
const std::string kEofOkMore = "fe 00 00 0a 00 00 00";
const std::string kErr = "ff 7a 04 23 34 32 30 30 30 6e 6f";
const std::string kColumn = "03 64 65 66";  // a column definition starts with catalog "def"
const std::string kRow = "01 31";

class ResponseTrackerTest : public ::testing::TestWithParam<TrackerCase> {};

TEST_P(ResponseTrackerTest, FollowsTheGrammar) {
  const auto& c = GetParam();
  ResponseTracker tracker(c.deprecate_eof, true);
  tracker.start(c.command);
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const auto& step = c.steps[i];
    const auto leading = hex(step.leading);
    const std::uint32_t length = step.length ? step.length : static_cast<std::uint32_t>(leading.size());
    const auto needed = tracker.bytes_needed(leading.empty() ? 0 : leading[0], length);
    ASSERT_LE(needed, std::max<std::size_t>(leading.size(), step.length ? ResponseTracker::kPeekBytes : 0))
        << "step " << i;
    const auto packet = tracker.on_packet(length, Bytes(leading.data(), std::min<std::size_t>(leading.size(), needed)));
    EXPECT_EQ(packet.verdict, step.expected) << "step " << i;
  }
  if (!c.steps.empty() && c.steps.back().expected == V::kDone) {
    EXPECT_TRUE(tracker.idle());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Grammars, ResponseTrackerTest,
    ::testing::Values(
        TrackerCase{"QueryOk", Command::kQuery, false, {{kOk, V::kDone}}},
        TrackerCase{"QueryErr", Command::kQuery, false, {{kErr, V::kDone}}},
        TrackerCase{"QueryResultClassicEof",
                    Command::kQuery,
                    false,
                    {{"02", V::kMore}, {kColumn, V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore},
                     {kRow, V::kMore}, {kRow, V::kMore}, {kEof, V::kDone}}},
        TrackerCase{"QueryResultDeprecateEof",
                    Command::kQuery,
                    true,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kRow, V::kMore}, {kEofOk, V::kDone}}},
        TrackerCase{"EmptyResult", Command::kQuery, false,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore}, {kEof, V::kDone}}},
        TrackerCase{"ErrorMidRows",
                    Command::kQuery,
                    false,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore}, {kRow, V::kMore}, {kErr, V::kDone}}},
        TrackerCase{"MultiResultsFromProcedure",
                    Command::kQuery,
                    false,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore}, {kRow, V::kMore}, {kEofMore, V::kMore},
                     {"01", V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore}, {kEofMore, V::kMore},
                     {kOk, V::kDone}}},
        TrackerCase{"MultiStatementsOkThenResult",
                    Command::kQuery,
                    true,
                    {{kOkMore, V::kMore}, {"01", V::kMore}, {kColumn, V::kMore}, {kRow, V::kMore},
                     {kEofOkMore, V::kMore}, {kOk, V::kDone}}},
        TrackerCase{"LocalInfileRequest", Command::kQuery, false, {{"fb 2f 74 6d 70", V::kLocalInfile}}},
        TrackerCase{"LongRowContinues",
                    Command::kQuery,
                    false,
                    // a 16 MiB row, its tail (starting with bytes that look like EOF), then the real EOF
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore}, {"fd ff ff ff", V::kMore, kMaxPayload},
                     {"fe 00 00 02 00", V::kMore}, {kEof, V::kDone}}},
        TrackerCase{"RowThatLooksLikeEofButIsLong", Command::kQuery, false,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore}, {"fe 00", V::kMore, 20}, {kEof, V::kDone}}},
        TrackerCase{"PrepareWithParamsAndColumns",
                    Command::kStmtPrepare,
                    false,
                    {{"00 01 00 00 00 02 00 01 00 00 00 00", V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore},
                     {kColumn, V::kMore}, {kColumn, V::kMore}, {kEof, V::kDone}}},
        TrackerCase{"PrepareDeprecateEof",
                    Command::kStmtPrepare,
                    true,
                    {{"00 01 00 00 00 01 00 01 00 00 00 00", V::kMore}, {kColumn, V::kMore}, {kColumn, V::kDone}}},
        TrackerCase{"PrepareNoColumnsNoParams", Command::kStmtPrepare, false,
                    {{"00 01 00 00 00 00 00 00 00 00 00 00", V::kDone}}},
        TrackerCase{"PrepareError", Command::kStmtPrepare, false, {{kErr, V::kDone}}},
        TrackerCase{"ExecuteBinaryRows",
                    Command::kStmtExecute,
                    false,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kEof, V::kMore}, {"00 00 01", V::kMore}, {kEof, V::kDone}}},
        TrackerCase{"ExecuteOpensCursor", Command::kStmtExecute, false,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kEofCursor, V::kDone}}},
        // Found by mariadb-test's main.signal through the proxy: the status of a CALL's
        // result set (0xe9: cursor exists, more results, ...) while the procedure holds a
        // cursor open; the proxy took the response as ended and closed the session when
        // the rest came.
        TrackerCase{"QueryResultWithCursorStatusInProcedure", Command::kQuery, false,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {"fe 00 00 e9 00", V::kMore}, {kRow, V::kMore},
                     {"fe 00 00 e9 00", V::kMore}, {kErr, V::kDone}}},
        // LOCAL INFILE exists only in the text protocol.
        TrackerCase{"ExecuteLocalInfileIsAnError", Command::kStmtExecute, false, {{"fb", V::kProtocolError}}},
        TrackerCase{"FetchRows", Command::kStmtFetch, false,
                    {{"00 00 01", V::kMore}, {"00 00 02", V::kMore}, {"fe 00 00 42 00", V::kDone}}},
        TrackerCase{"FetchError", Command::kStmtFetch, false, {{kErr, V::kDone}}},
        TrackerCase{"FieldList", Command::kFieldList, false, {{kColumn, V::kMore}, {kColumn, V::kMore}, {kEof, V::kDone}}},
        TrackerCase{"Ping", Command::kPing, false, {{kOk, V::kDone}}},
        TrackerCase{"SetOptionEof", Command::kSetOption, false, {{kEof, V::kDone}}},
        TrackerCase{"Statistics", Command::kStatistics, false, {{"55 70 74 69 6d 65 3a 20 31", V::kDone}}},
        TrackerCase{"InitDbError", Command::kInitDb, false, {{kErr, V::kDone}}},
        TrackerCase{"ZeroColumnCountIsAnError", Command::kQuery, false, {{"fc 00 00", V::kProtocolError}}},
        TrackerCase{"EmptyPacketIsAnError", Command::kPing, false, {{"", V::kProtocolError}}},
        TrackerCase{"RowWhereEofExpected", Command::kQuery, false,
                    {{"01", V::kMore}, {kColumn, V::kMore}, {kRow, V::kProtocolError}}},
        TrackerCase{"GarbageForPing", Command::kPing, false, {{"42 42", V::kProtocolError}}},
        TrackerCase{"TruncatedOk", Command::kQuery, false, {{"00 00", V::kProtocolError}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ResponseTracker, LocalInfileThenResult) {
  ResponseTracker tracker(false, true);
  tracker.start(Command::kQuery);
  const auto request = hex("fb 2f 74 6d 70");
  EXPECT_EQ(tracker.on_packet(5, Bytes(request.data(), 5)).verdict, V::kLocalInfile);
  tracker.infile_sent();
  const auto ok = hex(kOk);
  EXPECT_EQ(tracker.on_packet(7, Bytes(ok.data(), 7)).verdict, V::kDone);
}

TEST(ResponseTracker, ReportsOkPacketsForSessionState) {
  ResponseTracker tracker(true, true);
  tracker.start(Command::kQuery);
  const auto ok = hex("00 00 00 02 40 00 00 00 0e 01 0c 0b 6d 79 70 72 6f 6a 65 63 74 5f 61");
  ASSERT_EQ(tracker.bytes_needed(ok[0], ok.size()), ok.size());
  const auto packet = tracker.on_packet(ok.size(), Bytes(ok.data(), ok.size()));
  ASSERT_TRUE(packet.ok);
  EXPECT_EQ(parse_session_state(packet.ok->session_state).schema, "myproject_a");
}

TEST(ResponseTracker, PacketAfterTheEndIsAnError) {
  ResponseTracker tracker(false, true);
  tracker.start(Command::kPing);
  const auto ok = hex(kOk);
  EXPECT_EQ(tracker.on_packet(7, Bytes(ok.data(), 7)).verdict, V::kDone);
  EXPECT_EQ(tracker.on_packet(7, Bytes(ok.data(), 7)).verdict, V::kProtocolError);
}

TEST(ResponseTracker, RowsAreNeverReadWhole) {
  ResponseTracker tracker(false, true);
  tracker.start(Command::kQuery);
  const auto cols = hex("01");
  tracker.on_packet(1, Bytes(cols.data(), 1));
  const auto col = hex(kColumn);
  tracker.on_packet(4, Bytes(col.data(), 4));
  const auto eof = hex(kEof);
  tracker.on_packet(5, Bytes(eof.data(), 5));
  EXPECT_EQ(tracker.bytes_needed(0x05, 10'000'000), ResponseTracker::kPeekBytes);
  EXPECT_EQ(tracker.bytes_needed(0xFE, 10'000'000), ResponseTracker::kPeekBytes);
}

}  // namespace
}  // namespace djproxy::protocol
