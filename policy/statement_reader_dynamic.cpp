// Dynamic SQL: PREPARE name FROM 'text', EXECUTE IMMEDIATE 'text', EXECUTE name;
// the statement's name, and the text read as a nested statement.
#include "policy/statement_reader.hpp"

#include "policy/statement_reader_words.hpp"

namespace djproxy::policy {
using namespace reader_words;

// The server finds a prepared statement by its name without letter case (a utf8
// case-insensitive hash); only ASCII names are compared here, by the same rule.
bool StatementReader::statement_name(const Token& t) {
  if (!is_name(t) || t.truncated) {
    reject(info_.verb + " needs a statement name");
    return false;
  }
  std::string name(t.text);
  for (char& c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      reject(info_.verb + " of a statement whose name is not ASCII");
      return false;
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  info_.statement_name = std::move(name);
  return true;
}

void StatementReader::dynamic_head(const Token& t) {
  // PREPARE name FROM 'text'   |   EXECUTE IMMEDIATE 'text' [USING ...]   |   EXECUTE name [USING ...]
  if (verb_ == Kw::EXECUTE && dynamic_step_ == DynamicStep::name) {
    if (is_word(t, Kw::IMMEDIATE)) {
      info_.verb += " IMMEDIATE";
      dynamic_step_ = DynamicStep::text;
      return;
    }
    // EXECUTE of a statement prepared earlier: the analyser lets it through only when
    // it read that statement's text (SessionState::prepared_names).
    if (!statement_name(t)) return;
    phase_ = Phase::ignore;
    return;
  }
  if (verb_ == Kw::PREPARE && dynamic_step_ == DynamicStep::name) {
    if (!statement_name(t)) return;
    dynamic_step_ = DynamicStep::from;
    return;
  }
  if (verb_ == Kw::PREPARE && dynamic_step_ == DynamicStep::from) {
    if (!is_word(t, Kw::FROM)) return reject("PREPARE needs FROM");
    dynamic_step_ = DynamicStep::text;
    return;
  }
  if (dynamic_step_ == DynamicStep::text) {
    if (t.kind != TokenKind::string)
      return reject(info_.verb + " of text djproxy cannot see (a variable or an expression)");
    if (t.truncated) return reject(info_.verb + " text too long to analyse");
    literal_.assign(t.text);
    literal_seen_ = true;
    dynamic_step_ = DynamicStep::after_text;
    return;
  }
  if (dynamic_step_ == DynamicStep::after_text && verb_ == Kw::EXECUTE && is_word(t, Kw::USING)) {
    phase_ = Phase::ignore;
    return;
  }
  return reject(info_.verb + " of text djproxy cannot see (an expression)");
}

void StatementReader::nested(const std::string& text, const char* verb) {
  if (nesting_ >= kMaxNesting) return reject("dynamic SQL nested too deeply");
  if (state_.dynamic_text_converted)
    return reject(std::string(verb) +
                  " while character_set_connection differs from character_set_client: the server converts the "
                  "text between them before reading it; SET NAMES to one character set first");
  auto inner = analyse_nested_(text, state_, config_, current_, nesting_ + 1);
  if (inner.size() != 1) return reject(std::string(verb) + " text must hold exactly one statement");
  StatementInfo s = std::move(inner.front());
  if (s.migration_token) return reject("@djproxy_migration may only be set by a statement of its own");
  if (s.kind == StatementKind::use) return reject("USE inside dynamic SQL is not supported");
  // EXECUTE of a prepared SET of sql_mode or of the character set would change how the
  // server reads the statements after it in the same packet, unseen by the reader.
  if (s.changes_lexing && std::string_view(verb) == "PREPARE")
    return reject("PREPARE of a SET of sql_mode or of the character set is not supported; send the SET itself");
  s.via_prepare = true;
  s.verb = std::string(verb) + " " + s.verb;
  s.statement_name = std::move(info_.statement_name);
  info_ = std::move(s);
}

}  // namespace djproxy::policy
