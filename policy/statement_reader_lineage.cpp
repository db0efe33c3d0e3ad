// DELETE / UPDATE of one table: the WHERE condition is captured token by token and
// read, when the rules ask, as `name = 'text'` conjuncts joined by AND, the one shape
// they judge (rules.hpp: whether it picks only a bookkeeping table's ~lineage rows).
#include "policy/statement_reader.hpp"

#include "policy/statement_reader_words.hpp"

namespace djproxy::policy {
using namespace reader_words;

void StatementReader::capture(const Token& t) {
  if (where_.size() >= 64) {
    capture_overflow_ = true;
    return;
  }
  if (where_.empty()) where_.reserve(16);
  where_.push_back(CapturedToken{t.kind, t.punct, t.after_dot ? Kw::none : t.kw, t.truncated,
                                 static_cast<std::uint32_t>(where_text_.size()),
                                 static_cast<std::uint32_t>(t.text.size())});
  where_text_.append(t.text.data(), t.text.size());
}

std::span<const NameEquals> StatementReader::row_condition() {
  if (!condition_read_) {
    condition_read_ = true;
    if (one_table_condition_) read_row_condition();
  }
  return row_condition_;
}

void StatementReader::read_row_condition() {
  // Conjuncts joined by AND (parentheses ignored), each `name = 'text'` or `'text' = name`
  // with the whole text read; anything else leaves row_condition_ empty.
  const auto text = [&](const CapturedToken& c) { return std::string_view(where_text_.data() + c.off, c.len); };
  std::size_t i = 0;
  const auto skip_parens = [&] {
    while (i < where_.size() && where_[i].kind == TokenKind::punct && (where_[i].punct == '(' || where_[i].punct == ')'))
      ++i;
  };
  std::vector<NameEquals> pairs;
  while (true) {
    skip_parens();
    if (i + 3 > where_.size()) return;
    const auto& a = where_[i];
    const auto& eq = where_[i + 1];
    const auto& b = where_[i + 2];
    const bool a_name = a.kind == TokenKind::quoted_ident || (a.kind == TokenKind::word && a.kw == Kw::none);
    const bool b_name = b.kind == TokenKind::quoted_ident || (b.kind == TokenKind::word && b.kw == Kw::none);
    if (!(eq.kind == TokenKind::punct && eq.punct == '=')) return;
    const CapturedToken* name = nullptr;
    const CapturedToken* value = nullptr;
    if (a_name && b.kind == TokenKind::string) {
      name = &a;
      value = &b;
    } else if (b_name && a.kind == TokenKind::string) {
      name = &b;
      value = &a;
    } else {
      return;
    }
    if (value->truncated) return;
    pairs.push_back(NameEquals{text(*name), text(*value)});
    i += 3;
    skip_parens();
    if (i == where_.size()) break;
    if (where_[i].kind == TokenKind::word && where_[i].kw == Kw::AND) {
      ++i;
      continue;
    }
    return;
  }
  row_condition_ = std::move(pairs);
}

}  // namespace djproxy::policy
