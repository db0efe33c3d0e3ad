#include "policy/digest.hpp"

#include <algorithm>
#include <array>

#include "policy/lexer.hpp"

namespace djproxy::policy {
namespace {

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (upper(a[i]) != upper(b[i])) return false;
  return true;
}

// Words the reader has no use for but a DBA expects in upper case: the reserved
// words and type names that show up in application statements. Sorted.
constexpr std::string_view kMoreKeywords[] = {
    "ACCESSIBLE", "AGAINST", "ASC", "AUTO_INCREMENT", "BETWEEN", "BIGINT", "BIT", "BLOB", "BOOL", "BOOLEAN",
    "BOTH", "CASE", "CAST", "CHAR", "COMMITTED", "CONSISTENT", "CONSTRAINT", "CONTINUE", "CONVERT", "CURRENT",
    "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "CURSOR", "DATE", "DATETIME", "DAY",
    "DEC", "DECIMAL", "DECLARE", "DISTINCT", "DISTINCTROW", "DIV", "DOUBLE", "DUPLICATE", "ELSEIF", "ENCLOSED",
    "ENUM", "ESCAPE", "ESCAPED", "FALSE", "FIRST", "FLOAT", "FOLLOWING", "HOUR", "INT", "INTEGER", "INTERVAL",
    "ISOLATION", "JSON", "LAST", "LEADING", "LEVEL", "LINES", "LOCKED", "LONGBLOB", "LONGTEXT", "MATCH",
    "MEDIUMBLOB", "MEDIUMINT", "MEDIUMTEXT", "MEMBER", "MINUTE", "MOD", "MODE", "MONTH", "NEXT", "NOWAIT",
    "NUMERIC", "OFFSET", "ONLY", "OPTIONALLY", "OVER", "PRECEDING", "PRIMARY", "RANGE", "REAL", "REGEXP",
    "REPEATABLE", "RLIKE", "ROWS", "SECOND", "SERIALIZABLE", "SHARE", "SIGNED", "SKIP", "SMALLINT", "SNAPSHOT",
    "TERMINATED", "THEN", "TIME", "TIMESTAMP", "TINYBLOB", "TINYINT", "TINYTEXT", "TRAILING", "TRUE"};

// Character sets whose `_name` introduces a literal (`_binary'...'`). Sorted.
constexpr std::string_view kCharsets[] = {
    "armscii8", "ascii", "big5", "binary", "cp1250", "cp1251", "cp1256", "cp1257", "cp850", "cp852", "cp866",
    "cp932", "dec8", "eucjpms", "euckr", "gb18030", "gb2312", "gbk", "geostd8", "greek", "hebrew", "hp8",
    "keybcs2", "koi8r", "koi8u", "latin1", "latin2", "latin5", "latin7", "macce", "macroman", "sjis", "swe7",
    "tis620", "ucs2", "ujis", "utf16", "utf16le", "utf32", "utf8", "utf8mb3", "utf8mb4"};

static_assert(std::is_sorted(std::begin(kMoreKeywords), std::end(kMoreKeywords)));
static_assert(std::is_sorted(std::begin(kCharsets), std::end(kCharsets)));

// Finds `word`, case-insensitively, in a sorted table spelt in upper (or lower) case.
template <std::size_t N>
bool listed(const std::string_view (&table)[N], std::string_view word, bool lower_table) {
  char buf[24];
  if (word.empty() || word.size() > sizeof buf) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const char u = upper(word[i]);
    buf[i] = lower_table && u >= 'A' && u <= 'Z' ? static_cast<char>(u - 'A' + 'a') : u;
  }
  return std::binary_search(std::begin(table), std::end(table), std::string_view(buf, word.size()));
}

// Bytes after which the next byte may continue the same operator (`<` of `<=>`).
bool is_operator_byte(char c) {
  return c == '<' || c == '>' || c == '=' || c == '!' || c == ':' || c == '|' || c == '&' || c == '-';
}

// Operators the lexer hands over one byte at a time but a reader sees as one.
bool joined_operator(std::string_view op) {
  static constexpr std::string_view kOps[] = {"<=", ">=", "<>", "!=", ":=", "||", "&&", "<<", ">>", "->", "<=>", "->>"};
  return std::find(std::begin(kOps), std::end(kOps), op) != std::end(kOps);
}

// Whether a user variable's name can be written back without quotes (`@a.b`, not `@'a b'`).
bool plain_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!(u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || c == '_' ||
          c == '$' || c == '.'))
      return false;
  }
  return true;
}

class DigestWriter final : public TokenSink {
 public:
  explicit DigestWriter(std::size_t input_size) {
    // One allocation as a rule: the spaces put between tokens make a digest at
    // most about half again as long as a tightly written statement.
    out_.reserve(std::min(kDigestMaxText, input_size + input_size / 2 + 8));
  }

  void on_token(const Token& t) override {
    if (full_) return;
    if (values_ == Values::collapsing && skip_row(t)) return;
    if (npending_ > 0) {
      switch (introduced(t)) {
        case Intro::literal:
          npending_ = 0;
          return literal();
        case Intro::chained:
          return;
        case Intro::no:
          flush_pending();
          if (full_) return;
          break;
      }
    }
    if (may_introduce(t)) return hold(t.text);
    token(t);
  }

  bool full() const noexcept { return full_; }

  // The input ended: `cut_literal` when it ended inside a string literal,
  // `incomplete` when the digest does not cover all of it.
  std::string finish(bool cut_literal, bool incomplete) {
    if (cut_literal) npending_ = 0;  // they introduced the literal that was cut
    if (!full_) flush_pending();
    if (!full_ && cut_literal) literal();
    if (!full_ && incomplete) mark_cut();
    return std::move(out_);
  }

 private:
  // What the previous output token was, for spacing and for telling a sign from a minus.
  enum class Prev : std::uint8_t { none, keyword, operand, open, dot, sysvar, op, comma, other };
  enum class InList : std::uint8_t { none, after_in, want_value, want_separator };
  enum class Values : std::uint8_t { none, after_keyword, in_row, after_row, after_comma, collapsing };
  enum class Intro : std::uint8_t { no, literal, chained };

  struct Pending {
    std::array<char, 16> text{};
    std::size_t len = 0;
    std::string_view view() const { return {text.data(), len}; }
  };

  // ------------------------------------------------------------ one token

  void token(const Token& t) {
    switch (t.kind) {
      case TokenKind::number:
      case TokenKind::string:
        return literal();
      case TokenKind::quoted_ident:
        other_token();
        return put_quoted({}, t.text, t.quote);
      case TokenKind::user_var:
        other_token();
        if (plain_name(t.text)) return put_quoted("@", t.text, 0);
        return put_quoted("@", t.text, '`');
      case TokenKind::sys_var:
        other_token();
        return put("@@", Prev::sysvar);
      case TokenKind::word:
        return word(t.text, t.kw, t.after_dot || prev_ == Prev::sysvar);
      case TokenKind::punct:
        return punct(t.punct, t.space_before);
    }
  }


  void word(std::string_view text, Kw kw, bool name_position) {
    if (name_position) {
      other_token();
      return put(text, Prev::operand);
    }
    // NULL, TRUE and FALSE are values, except in `IS [NOT] NULL` and `NOT NULL`,
    // where they are the test or the constraint.
    const bool value_word = kw == Kw::NULL_ || ieq(text, "TRUE") || ieq(text, "FALSE");
    if (value_word && last_kw_ != Kw::IS && last_kw_ != Kw::NOT)
      return literal();
    if (kw == Kw::none && !listed(kMoreKeywords, text, false)) {
      other_token();
      return put(text, Prev::operand);
    }
    if (kw == Kw::ROW && values_ == Values::after_comma) return start_collapse();
    if (!(kw == Kw::ROW && values_ == Values::after_keyword)) other_token();
    if (!start(text.size(), Prev::keyword)) return;
    for (char c : text) out_ += upper(c);
    last_kw_ = kw;
    if (kw == Kw::IN) in_ = InList::after_in;
    if (kw == Kw::VALUES || kw == Kw::VALUE) {
      values_ = Values::after_keyword;
      values_depth_ = depth_;
    }
  }

  void punct(char c, bool space_before) {
    if (c == '(') ++depth_;
    if (c == ')' && depth_ > 0) --depth_;
    if (!space_before && prev_ == Prev::op && joined_operator(op_ + c)) {
      if (out_.size() + 1 + kMarker.size() > kDigestMaxText) return mark_cut();
      op_ += c;
      out_ += c;
      sign_pending_ = false;  // `->` is not a sign
      return;
    }
    if (c == ';') {  // the next statement starts afresh
      depth_ = 0;
      in_ = InList::none;
      values_ = Values::none;
    }
    const bool sign = (c == '-' || c == '+') && prev_ != Prev::operand;
    const std::size_t before = out_.size();
    const Prev prev_before = prev_;
    switch (c) {
      case '(': put("(", Prev::open); break;
      case ')': put(")", Prev::operand); break;
      case ',': put(",", Prev::comma); break;
      case '.': put(".", Prev::dot); break;
      default: put(std::string_view(&c, 1), is_operator_byte(c) ? Prev::op : Prev::other); break;
    }
    if (full_) return;
    op_.assign(1, c);
    if (sign) {
      // Decided by the next token: `- 1` is the literal `?`, `- x` stays.
      sign_at_ = before;
      sign_prev_ = prev_before;
      sign_pending_ = true;
      return;
    }
    in_list_punct(c);
    values_punct(c, before);
  }

  void literal() {
    if (sign_pending_) {
      out_.resize(sign_at_);
      prev_ = sign_prev_;
    }
    put("?", Prev::operand);
    if (full_) return;
    in_ = in_ == InList::want_value ? InList::want_separator : InList::none;
    if (values_ != Values::in_row && values_ != Values::collapsing) values_ = Values::none;
  }

  // A token that is neither a literal nor a parenthesis or comma ends the
  // shapes being recognised.
  void other_token() {
    in_ = InList::none;
    if (values_ != Values::in_row && values_ != Values::collapsing) values_ = Values::none;
  }

  // ------------------------------------------------------------ IN (...) and VALUES rows

  void in_list_punct(char c) {
    if (in_ == InList::after_in && c == '(') {
      in_ = InList::want_value;
      in_open_ = out_.size();
    } else if (in_ == InList::want_separator && c == ',') {
      in_ = InList::want_value;
    } else if (in_ == InList::want_separator && c == ')') {
      // `(?)` is shorter than `(...)`: the collapse too must respect the bound.
      in_ = InList::none;
      if (in_open_ + 4 + kMarker.size() > kDigestMaxText) return mark_cut();
      out_.resize(in_open_);
      out_ += "...)";
    } else {
      in_ = InList::none;
    }
  }

  void values_punct(char c, std::size_t before) {
    switch (values_) {
      case Values::after_keyword:
        values_ = c == '(' ? Values::in_row : Values::none;
        break;
      case Values::in_row:
        if (c == ')' && depth_ == values_depth_) values_ = Values::after_row;
        break;
      case Values::after_row:
        values_ = c == ',' ? Values::after_comma : Values::none;
        comma_at_ = before;
        break;
      case Values::after_comma:
        if (c == '(') start_collapse();
        else values_ = Values::none;
        break;
      case Values::none:
      case Values::collapsing:
        break;
    }
  }

  void start_collapse() {
    if (comma_at_ + 5 + kMarker.size() > kDigestMaxText) return mark_cut();
    out_.resize(comma_at_);
    out_ += ", ...";
    prev_ = Prev::other;
    values_ = Values::collapsing;
  }

  // Skips the second and later rows; false once the token is past them.
  bool skip_row(const Token& t) {
    const bool open = t.kind == TokenKind::punct && t.punct == '(';
    const bool close = t.kind == TokenKind::punct && t.punct == ')';
    if (open) {
      ++depth_;
      return true;
    }
    if (depth_ > values_depth_) {
      if (close) --depth_;
      return true;
    }
    if ((t.kind == TokenKind::word && !t.after_dot && t.kw == Kw::ROW) || (t.kind == TokenKind::punct && t.punct == ','))
      return true;
    values_ = Values::none;
    return false;
  }

  // ------------------------------------------------------------ introducers

  bool may_introduce(const Token& t) const {
    if (t.kind != TokenKind::word || t.after_dot || t.truncated || npending_ >= pending_.size()) return false;
    if (t.text.size() == 1) {
      const char c = upper(t.text[0]);
      return c == 'X' || c == 'B' || c == 'N';
    }
    return t.text.size() <= 16 && t.text[0] == '_' && listed(kCharsets, t.text.substr(1), true);
  }

  void hold(std::string_view text) {
    Pending& p = pending_[npending_++];
    p.len = text.size();
    std::copy(text.begin(), text.end(), p.text.begin());
  }

  // Whether `t` is the literal the held words introduce: `X'..'`, `N'..'`,
  // `_binary'..'`, `_binary 0x..`, or the `X` of `_latin1 X'..'`.
  Intro introduced(const Token& t) {
    const Pending& last = pending_[npending_ - 1];
    if (last.len == 1) {
      const bool ok = t.kind == TokenKind::string && !t.space_before && (npending_ == 1 || upper(last.text[0]) != 'N');
      return ok ? Intro::literal : Intro::no;
    }
    if (t.kind == TokenKind::string || t.kind == TokenKind::number) return Intro::literal;
    if (may_introduce(t) && t.text.size() == 1 && upper(t.text[0]) != 'N') {
      hold(t.text);
      return Intro::chained;
    }
    return Intro::no;
  }

  void flush_pending() {
    const std::size_t n = npending_;
    npending_ = 0;
    for (std::size_t i = 0; i < n && !full_; ++i) {
      const Pending p = pending_[i];
      word(p.view(), lookup_keyword(p.view()), false);
    }
  }

  // ------------------------------------------------------------ output

  void put(std::string_view text, Prev kind) {
    const bool tight = text == "," || text == ")" || text == "." || text == ";";
    if (start(text.size(), kind, tight)) out_ += text;
  }

  // `prefix`, then `text` between `quote`s with inner quotes doubled (no quotes when 0).
  void put_quoted(std::string_view prefix, std::string_view text, char quote) {
    const std::size_t inner = quote == 0 ? 0 : static_cast<std::size_t>(std::count(text.begin(), text.end(), quote));
    if (!start(prefix.size() + text.size() + (quote == 0 ? 0 : 2 + inner), Prev::operand)) return;
    out_ += prefix;
    if (quote == 0) {
      out_ += text;
      return;
    }
    out_ += quote;
    if (inner == 0) {
      out_ += text;
    } else {
      for (char c : text) {
        out_ += c;
        if (c == quote) out_ += c;
      }
    }
    out_ += quote;
  }

  // Writes the space before a token of `n` bytes; false (and the digest ends)
  // when the token does not fit.
  bool start(std::size_t n, Prev kind, bool tight = false) {
    const bool space = !out_.empty() && !tight && prev_ != Prev::open && prev_ != Prev::dot && prev_ != Prev::sysvar;
    if (out_.size() + (space ? 1 : 0) + n + kMarker.size() > kDigestMaxText) {
      mark_cut();
      return false;
    }
    if (space) out_ += ' ';
    prev_ = kind;
    if (kind != Prev::keyword) last_kw_ = Kw::none;
    sign_pending_ = false;
    return true;
  }

  void mark_cut() {
    out_ += kMarker;
    full_ = true;
  }

  static constexpr std::string_view kMarker = " ...";

  std::string out_;
  bool full_ = false;
  Prev prev_ = Prev::none;
  std::string op_;  // the operator being written, while its bytes arrive
  Kw last_kw_ = Kw::none;
  std::size_t depth_ = 0;
  bool sign_pending_ = false;
  std::size_t sign_at_ = 0;
  Prev sign_prev_ = Prev::none;
  InList in_ = InList::none;
  std::size_t in_open_ = 0;
  Values values_ = Values::none;
  std::size_t values_depth_ = 0;
  std::size_t comma_at_ = 0;
  std::array<Pending, 2> pending_{};
  std::size_t npending_ = 0;
};

}  // namespace

std::string digest_text(std::string_view sql, const SessionState& state) {
  DigestWriter writer(sql.size());
  Lexer lexer(LexOptions{state.sql_mode, state.flavour, state.server_version, state.charset}, writer);
  const std::string_view input = sql.substr(0, kDigestMaxInput);
  // Fed in pieces so that a digest that is already full stops the reading.
  constexpr std::size_t kPiece = 4096;
  for (std::size_t at = 0; at < input.size() && !lexer.failed(); at += kPiece) {
    lexer.feed(input.substr(at, kPiece));
    if (writer.full()) break;
  }
  const bool lex_failed = lexer.failed();
  const bool cut_literal = !lex_failed && lexer.inside_string();
  if (!lex_failed) lexer.finish();
  return writer.finish(cut_literal, lex_failed || sql.size() > input.size());
}

std::uint64_t digest_hash(std::string_view text) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace djproxy::policy
