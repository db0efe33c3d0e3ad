// DELETE / UPDATE of ~lineage rows: the WHERE condition is captured token by
// token, and accepted only as `name = 'text'` conjuncts of which one picks the
// rows of a bookkeeping table (table_name = '~...').
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
  where_.push_back(CapturedToken{t.kind, t.punct, t.after_dot ? Kw::none : t.kw, t.truncated, std::string(t.text)});
}

bool StatementReader::lineage_condition_ok() const {
  // Accepts: conjuncts joined by AND (parentheses ignored), each `name = 'text'`,
  // at least one of them `table_name = '~...'`.
  bool bookkeeping = false;
  std::size_t i = 0;
  const auto skip_parens = [&] {
    while (i < where_.size() && where_[i].kind == TokenKind::punct && (where_[i].punct == '(' || where_[i].punct == ')'))
      ++i;
  };
  i = 0;
  while (true) {
    skip_parens();
    if (i + 3 > where_.size()) return false;
    const auto& a = where_[i];
    const auto& eq = where_[i + 1];
    const auto& b = where_[i + 2];
    const bool a_name = a.kind == TokenKind::quoted_ident || (a.kind == TokenKind::word && a.kw == Kw::none);
    const bool b_name = b.kind == TokenKind::quoted_ident || (b.kind == TokenKind::word && b.kw == Kw::none);
    if (!(eq.kind == TokenKind::punct && eq.punct == '=')) return false;
    const CapturedToken* name = nullptr;
    const CapturedToken* value = nullptr;
    if (a_name && b.kind == TokenKind::string) {
      name = &a;
      value = &b;
    } else if (b_name && a.kind == TokenKind::string) {
      name = &b;
      value = &a;
    } else {
      return false;
    }
    if (value->truncated) return false;
    if (ieq(name->text, "table_name") && !value->text.empty() && value->text[0] == '~') bookkeeping = true;
    i += 3;
    skip_parens();
    if (i == where_.size()) break;
    if (where_[i].kind == TokenKind::word && where_[i].kw == Kw::AND) {
      ++i;
      continue;
    }
    return false;
  }
  return bookkeeping;
}

}  // namespace djproxy::policy
