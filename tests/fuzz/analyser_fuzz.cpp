// libFuzzer target: the analyser never crashes or hangs, gives the same analysis in
// any chunking, and every reject carries a code and a message; the statement
// digest of the same text never crashes and stays within its bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/analyser.hpp"
#include "policy/digest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace djproxy::policy;
  if (size < 2) return 0;
  SessionState s;
  const std::uint8_t b = data[0];
  s.current_schema = (b & 0x80) ? std::optional<std::string>() : std::optional<std::string>("myproject_full");
  s.sql_mode.ansi_quotes = b & 1;
  s.sql_mode.no_backslash_escapes = b & 2;
  s.flavour = (b & 4) ? ServerFlavour::mysql : ServerFlavour::mariadb;
  s.server_version = (b & 4) ? 80036 : 101119;
  s.multi_statements = b & 8;
  s.charset = (b & 16) ? CharsetClass::gbk : CharsetClass::utf8;
  if (b & 32) s.migration.kind = MigrationKind::by_user;
  PolicyConfig c;
  c.schema_prefix = "myproject_";
  c.create_tables = b & 64;
  const std::size_t step = 1 + data[1] % 23;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  const Analysis whole = analyse(text, s, c);
  StreamingAnalyser a(s, c);
  for (std::size_t i = 0; i < text.size(); i += step) a.feed(text.substr(i, step));
  const Analysis parts = a.finish();
  if (!(whole == parts)) __builtin_trap();
  const Decision& d = whole.decision;
  if (d.verdict == Verdict::reject && (d.code == 0 || d.message.empty() || d.sqlstate != "42000")) __builtin_trap();
  for (const auto& st : whole.statements)
    if (!st.unsupported.empty() && d.verdict != Verdict::reject) __builtin_trap();
  const std::string digest = digest_text(text, s);
  if (digest.size() > kDigestMaxText) __builtin_trap();
  // Every prefix is a statement the proxy may have to digest (the head of a huge one).
  const std::string head = digest_text(text.substr(0, text.size() / 2), s);
  if (head.size() > kDigestMaxText) __builtin_trap();
  (void)digest_hash(digest);
  return 0;
}
