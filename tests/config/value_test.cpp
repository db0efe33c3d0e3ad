#include "config/value.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

namespace djproxy::config {
namespace {

using namespace std::chrono_literals;

TEST(ConfigBooleans, EveryTrueSpellingInAnyCase) {
  for (std::string s : {"true", "1", "yes", "on", "t", "y", "TRUE", "True", "YES", "On", "T", "Y", " yes "}) {
    EXPECT_EQ(parse_bool(s), true) << s;
  }
}

TEST(ConfigBooleans, EveryFalseSpellingInAnyCase) {
  for (std::string s : {"false", "0", "no", "off", "f", "n", "FALSE", "False", "NO", "Off", "F", "N"}) {
    EXPECT_EQ(parse_bool(s), false) << s;
  }
}

TEST(ConfigBooleans, AnythingElseIsRejected) {
  for (std::string s : {"", "2", "yep", "nope", "enabled", "truee", "-1", "o"}) {
    EXPECT_EQ(parse_bool(s), std::nullopt) << s;
  }
}

TEST(ConfigDurations, UnitsAndCompounds) {
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("10m"), 10min);
  EXPECT_EQ(parse_duration("24h"), 24h);
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("1d"), 24h);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("0"), 0ms);
  EXPECT_EQ(parse_duration("45"), 45s);  // a bare number is seconds
}

TEST(ConfigDurations, Rejects) {
  for (std::string s : {"", "s", "10x", "-5s", "1.5h", "10 m", "h1", "99999999999999999999s"}) {
    EXPECT_EQ(parse_duration(s), std::nullopt) << s;
  }
}

TEST(ConfigDurations, FormatRoundTrips) {
  for (std::string s : {"0", "5s", "8h", "1h30m", "500ms", "51h4m5s6ms"}) {
    auto d = parse_duration(s);
    ASSERT_TRUE(d) << s;
    EXPECT_EQ(format_duration(*d), s);
  }
}

TEST(ConfigBytes, UnitsBinaryAndDecimal) {
  EXPECT_EQ(parse_bytes("4096"), 4096);
  EXPECT_EQ(parse_bytes("100MiB"), 100 * 1024 * 1024);
  EXPECT_EQ(parse_bytes("1GiB"), std::int64_t{1} << 30);
  EXPECT_EQ(parse_bytes("1 gib"), std::int64_t{1} << 30);
  EXPECT_EQ(parse_bytes("10MB"), 10'000'000);
  EXPECT_EQ(parse_bytes("2K"), 2048);
  EXPECT_EQ(parse_bytes("7B"), 7);
  EXPECT_EQ(parse_bytes("1TiB"), std::int64_t{1} << 40);
  for (std::string s : {"", "MiB", "1.5GiB", "-1", "10 parsecs", "99999999999TiB"}) {
    EXPECT_EQ(parse_bytes(s), std::nullopt) << s;
  }
  EXPECT_EQ(format_bytes(std::int64_t{1} << 30), "1GiB");
  EXPECT_EQ(format_bytes(100 * 1024 * 1024), "100MiB");
  EXPECT_EQ(format_bytes(1000), "1000");
}

class ConfigHostPort : public ::testing::TestWithParam<std::tuple<std::string, std::string, int>> {};

TEST_P(ConfigHostPort, Splits) {
  const auto& [text, host, port] = GetParam();
  auto r = parse_host_port(text, false);
  ASSERT_TRUE(std::holds_alternative<Endpoint>(r)) << text << ": " << std::get<std::string>(r);
  EXPECT_EQ(std::get<Endpoint>(r).host, host);
  EXPECT_EQ(std::get<Endpoint>(r).port, port);
}

INSTANTIATE_TEST_SUITE_P(Forms, ConfigHostPort,
                         ::testing::Values(std::make_tuple("db", "db", 0), std::make_tuple("db:3310", "db", 3310),
                                           std::make_tuple("10.0.0.5:3306", "10.0.0.5", 3306),
                                           std::make_tuple("[::1]:3306", "::1", 3306), std::make_tuple("[::1]", "::1", 0),
                                           std::make_tuple("::1", "::1", 0),
                                           std::make_tuple("fe80::1:2", "fe80::1:2", 0),
                                           std::make_tuple("[2001:db8::7]:6033", "2001:db8::7", 6033),
                                           std::make_tuple(" db.example.org:1 ", "db.example.org", 1)));

TEST(ConfigHostPortErrors, BadForms) {
  for (std::string s : {"", ":3306", "db:", "db:0", "db:65536", "db:x", "[::1", "[::1]3306", "[]:3306", "a b:1",
                        "db:3306:"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port(s, false))) << s;
  }
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port("db", true)));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port("[::1]", true)));
}

TEST(ConfigEndpointText, BracketsIpv6) {
  EXPECT_EQ((Endpoint{"::1", 3306}).to_string(), "[::1]:3306");
  EXPECT_EQ((Endpoint{"db", 3306}).to_string(), "db:3306");
  EXPECT_EQ((Endpoint{"db", 0}).to_string(), "db");
}

TEST(ConfigParseValue, ChoicesAreCaseInsensitiveAndCanonical) {
  const auto& d = *find_descriptor("policy.mode");
  auto p = parse_value(d, std::string("DRY-RUN"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(std::get<std::string>(p.value), "dry-run");
  auto bad = parse_value(d, std::string("dryrun"));
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("enforce, dry-run"), std::string::npos) << bad.error;
}

TEST(ConfigParseValue, ListsFromTextAndArrays) {
  const auto& d = *find_descriptor("migration.users");
  auto text = parse_value(d, std::string(" alice, bob,,carol "));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(std::get<std::vector<std::string>>(text.value), (std::vector<std::string>{"alice", "bob", "carol"}));
  auto array = parse_value(d, std::vector<std::string>{"alice", " bob "});
  EXPECT_EQ(std::get<std::vector<std::string>>(array.value), (std::vector<std::string>{"alice", "bob"}));
}

TEST(ConfigParseValue, ListElementsAreCheckedAgainstChoices) {
  const auto& d = *find_descriptor("audit.events");
  EXPECT_TRUE(parse_value(d, std::string("connect,REJECT")).ok());
  EXPECT_FALSE(parse_value(d, std::string("connect,rejekt")).ok());
}

TEST(ConfigParseValue, IntegersRespectBounds) {
  const auto& d = *find_descriptor("policy.lower_case_table_names");
  EXPECT_TRUE(parse_value(d, std::string("2")).ok());
  EXPECT_FALSE(parse_value(d, std::string("3")).ok());
  EXPECT_FALSE(parse_value(d, std::string("-1")).ok());
  EXPECT_FALSE(parse_value(d, std::string("one")).ok());
}

TEST(ConfigParseValue, PortsAndSingleValueKinds) {
  const auto& port = *find_descriptor("database.port");
  EXPECT_TRUE(parse_value(port, std::string("3306")).ok());
  EXPECT_FALSE(parse_value(port, std::string("0")).ok());
  EXPECT_FALSE(parse_value(port, std::string("70000")).ok());
  EXPECT_FALSE(parse_value(port, std::vector<std::string>{"1"}).ok());
}

TEST(ConfigParseValue, FreeTextKeepsItsSpaces) {
  const auto& d = *find_descriptor("database.password");
  EXPECT_EQ(std::get<std::string>(parse_value(d, std::string(" p w ")).value), " p w ");
}

TEST(ConfigHosts, LoopbackAndWildcard) {
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("LOCALHOST"));
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("db.example.org"));
  EXPECT_TRUE(is_wildcard_host("0.0.0.0"));
  EXPECT_TRUE(is_wildcard_host("::"));
}

}  // namespace
}  // namespace djproxy::config
