// libFuzzer target: the lexer never crashes, and its tokens depend neither on the
// chunking nor on the fast paths (the state machine alone reads the same).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/lexer.hpp"

namespace {
using namespace djproxy::policy;

struct Recorder final : TokenSink {
  std::vector<std::string> tokens;
  void on_token(const Token& t) override {
    std::string s(1, static_cast<char>('0' + static_cast<int>(t.kind)));
    s += t.punct;
    s += t.after_dot ? 'd' : '-';
    s += t.space_before ? 's' : '-';
    s += t.quote ? t.quote : '-';
    s += t.truncated ? 't' : '-';
    s += t.reserved ? 'r' : '-';
    s += static_cast<char>(static_cast<int>(t.kw) & 0xff);
    s += static_cast<char>(static_cast<int>(t.kw) >> 8);
    s += t.text;
    tokens.push_back(std::move(s));
  }
};

LexOptions options(std::uint8_t b) {
  LexOptions o;
  o.sql_mode.ansi_quotes = b & 1;
  o.sql_mode.no_backslash_escapes = b & 2;
  o.flavour = (b & 4) ? ServerFlavour::mysql : ServerFlavour::mariadb;
  o.server_version = (b & 4) ? 80036 : 101119;
  static constexpr CharsetClass cs[] = {CharsetClass::utf8, CharsetClass::gbk, CharsetClass::sjis,
                                        CharsetClass::big5, CharsetClass::single_byte, CharsetClass::gb18030,
                                        CharsetClass::utf8, CharsetClass::utf8};
  o.charset = cs[(b >> 3) & 7];
  return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const LexOptions o = options(data[0]);
  const std::size_t step = 1 + data[1] % 17;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  Recorder whole, parts;
  Lexer a(o, whole);
  a.feed(text);
  a.finish();
  Lexer b(o, parts);
  for (std::size_t i = 0; i < text.size(); i += step) b.feed(text.substr(i, step));
  b.finish();
  LexOptions slow_options = o;
  slow_options.fast_paths = false;
  Recorder slow;
  Lexer c(slow_options, slow);
  c.feed(text);
  c.finish();
  if (a.failed() != b.failed() || a.error() != b.error()) __builtin_trap();
  if (a.failed() != c.failed() || a.error() != c.error()) __builtin_trap();
  if (!a.failed() && (whole.tokens != parts.tokens || whole.tokens != slow.tokens)) __builtin_trap();
  return 0;
}
