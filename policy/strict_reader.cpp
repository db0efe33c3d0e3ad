#include "policy/strict_reader.hpp"

#include <algorithm>

#include "policy/strict_parser.hpp"

namespace djproxy::policy {

StrictReader::StrictReader(const PolicyConfig& config) : config_(config) {}

void StrictReader::reset(const std::optional<std::string>& current_schema, bool body) {
  current_ = &current_schema;
  body_ = body;
  toks_.clear();
  arena_.clear();
  // Field by field: assigning a fresh StrictResult costs a string and a vector built and dropped.
  result_.ok = true;
  result_.why.clear();
  result_.code = codes::not_supported;
  result_.head_only = false;
  result_.lineage_rows = StrictResult::LineageRows::none;
  result_.schemas.clear();
  overflow_ = false;
  depth_ = 0;
  insert_ = false;
  show_ = false;
  saw_select_ = false;
  rows_start_ = 0;
}

void StrictReader::push(const Token& t) {
  StrictToken s;
  s.kind = t.kind;
  s.punct = t.punct;
  s.quote = t.quote;
  s.space_before = t.space_before;
  s.after_dot = t.after_dot;
  s.truncated = t.truncated;
  if (t.kind == TokenKind::string && !t.text.empty()) s.first = t.text[0];
  // Only names need their text: literals are read as values whatever they hold, save
  // in SHOW a short string that names a schema (SHOW PROCEDURE STATUS WHERE Db = 'x').
  // Elsewhere strings stay out of the arena, so that a long IN list of keys does not
  // fill it before the token limit.
  constexpr std::size_t kLongestSchemaName = 64;
  const bool schema_string = show_ && t.kind == TokenKind::string && t.text.size() <= kLongestSchemaName;
  if (t.kind == TokenKind::string && !schema_string) s.truncated = true;
  if (t.kind == TokenKind::word || t.kind == TokenKind::quoted_ident || t.kind == TokenKind::user_var ||
      schema_string) {
    // The lexer looked the word up (a truncated word is longer than any reserved one).
    if (t.kind == TokenKind::word && !t.after_dot) s.reserved = t.reserved;
    if (arena_.size() + t.text.size() > kMaxArena) {
      overflow_ = true;
      return;
    }
    s.off = static_cast<std::uint32_t>(arena_.size());
    s.len = static_cast<std::uint32_t>(t.text.size());
    arena_.append(t.text.data(), t.text.size());
  }
  toks_.push_back(s);
}

void StrictReader::on_token(const Token& t) {
  if (overflow_ || !result_.ok) return;
  if (toks_.size() >= kMaxTokens) {
    overflow_ = true;
    return;
  }
  // Follow INSERT/REPLACE ... VALUES at depth 0, so that a row list of any length
  // is checked in chunks instead of buffered whole.
  const bool w = t.kind == TokenKind::word && !t.after_dot;
  // The lexer looked every word up: its keyword id stands for a comparison of its text.
  if (toks_.empty()) {
    insert_ = w && (t.kw == Kw::INSERT || t.kw == Kw::REPLACE);
    show_ = w && t.kw == Kw::SHOW;
  } else if (insert_ && depth_ == 0 && w) {
    if (t.kw == Kw::SELECT || t.kw == Kw::WITH) saw_select_ = true;
    if (!saw_select_ && rows_start_ == 0 && (t.kw == Kw::VALUES || t.kw == Kw::VALUE))
      rows_start_ = toks_.size() + 1;
    else if (rows_start_ != 0)
      insert_ = false;  // ON DUPLICATE KEY UPDATE, RETURNING: the rows have ended
  }
  if (t.kind == TokenKind::punct) {
    if (t.punct == '(') ++depth_;
    if (t.punct == ')') --depth_;
    if (insert_ && rows_start_ != 0 && depth_ == 0 && t.punct == ',' && toks_.size() - rows_start_ >= kRowChunk &&
        toks_.back().kind == TokenKind::punct && toks_.back().punct == ')') {
      check_rows(toks_.size());
      return;  // the comma after the checked rows goes with them
    }
  }
  push(t);
}

void StrictReader::check_rows(std::size_t end) {
  // Rows checked in chunks are not read for ~lineage's bookkeeping rows: such an
  // insert counts as touching other tables' lineage.
  for (std::size_t i = 0; i < rows_start_; ++i) {
    const auto& t = toks_[i];
    if ((t.kind == TokenKind::word || t.kind == TokenKind::quoted_ident) &&
        strict::ieq(std::string_view(arena_.data() + t.off, t.len), "~lineage"))
      result_.lineage_rows = StrictResult::LineageRows::other;
  }
  try {
    strict::Parser p(toks_.data(), rows_start_, end, {arena_.data(), arena_.size()}, config_, *current_, result_, body_);
    p.rows();
  } catch (const strict::Refusal& r) {
    result_.ok = false;
    result_.why = r.why;
    result_.code = r.code;
    return;
  }
  toks_.erase(toks_.begin() + static_cast<std::ptrdiff_t>(rows_start_), toks_.end());
  // The checked rows' names are no longer needed: keep the arena to the head's.
  std::uint32_t used = 0;
  for (const auto& t : toks_) used = std::max(used, t.off + t.len);
  arena_.shrink(used);
}

StrictResult& StrictReader::finish() {
  if (result_.ok && overflow_) {
    result_.ok = false;
    result_.why = "statement too large to read with certainty (more than " + std::to_string(kMaxTokens) +
                  " tokens or " + std::to_string(kMaxArena >> 20) + " MB of names)";
  }
  if (result_.ok) {
    try {
      strict::Parser p(toks_.data(), 0, toks_.size(), {arena_.data(), arena_.size()}, config_, *current_, result_, body_);
      p.statement();
    } catch (const strict::Refusal& r) {
      result_.ok = false;
      result_.why = r.why;
      result_.code = r.code;
    }
  }
  return result_;
}

}  // namespace djproxy::policy
