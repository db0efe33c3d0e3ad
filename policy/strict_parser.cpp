// The allow-list parser's token helpers and the references it records.
#include "policy/strict_parser.hpp"

namespace djproxy::policy::strict {
namespace {

const StrictToken kEnd{};  // punct 0: past the end of the statement

constexpr int kMaxDepth = 200;

}  // namespace

const StrictToken& Parser::peek(std::size_t k) const { return pos_ + k < end_ ? toks_[pos_ + k] : kEnd; }

bool Parser::word(const StrictToken& t, std::string_view kw) const {
  return t.kind == TokenKind::word && !t.after_dot && ieq(text(t), kw);
}

bool Parser::punct(char c, std::size_t k) const {
  const StrictToken& t = peek(k);
  return pos_ + k < end_ && t.kind == TokenKind::punct && t.punct == c;
}

bool Parser::accept(std::string_view kw) {
  if (!is(kw)) return false;
  ++pos_;
  return true;
}

bool Parser::accept(char c) {
  if (!punct(c)) return false;
  ++pos_;
  return true;
}

void Parser::expect(std::string_view kw) {
  if (!accept(kw)) syntax(std::string(kw) + " expected");
}

void Parser::expect(char c) {
  if (!accept(c)) syntax(std::string("'") + c + "' expected");
}

bool Parser::ident_at(std::size_t k) const {
  if (pos_ + k >= end_) return false;
  const StrictToken& t = peek(k);
  if (t.kind == TokenKind::quoted_ident) return true;
  return t.kind == TokenKind::word && (t.after_dot || !reserved(text(t)));
}

std::string Parser::ident() {
  if (!ident_at()) syntax("name expected");
  const StrictToken& t = peek();
  if (t.truncated) refuse("name too long");
  ++pos_;
  return std::string(text(t));
}

std::string Parser::near() const {
  if (at_end()) return "near '' (the end of the statement)";
  const StrictToken& t = peek();
  switch (t.kind) {
    case TokenKind::punct: return std::string("near '") + t.punct + "'";
    case TokenKind::string: return "near a string literal";
    case TokenKind::sys_var: return "near '@@'";
    default: return "near '" + std::string(text(t).substr(0, 64)) + "'";
  }
}

void Parser::refuse(const std::string& why) const { throw Refusal{why + " (" + near() + ")", codes::not_supported}; }

void Parser::syntax(const std::string& why) const {
  throw Refusal{"not valid SQL: " + why + " " + near(), codes::parse_error};
}

void Parser::enter() {
  if (++depth_ > kMaxDepth) refuse("statement nested too deeply");
}

void Parser::add_schema(const std::string& schema, Access access) {
  for (auto& s : out_.schemas) {
    if (s.name == schema) {
      if (static_cast<int>(access) > static_cast<int>(s.access)) s.access = access;
      return;
    }
  }
  if (out_.schemas.size() >= 512) refuse("too many schema references");
  out_.schemas.push_back(SchemaUse{schema, access});
}

Parser::Name Parser::qualified() {
  Name n;
  n.parts[n.n++] = ident();
  while (punct('.') && n.n < 3) {
    ++pos_;
    if (punct('*')) {
      --pos_;  // t.* : the caller reads the star
      break;
    }
    n.parts[n.n++] = ident();
  }
  if (punct('.') && !punct('*', 1)) refuse("name with more than three parts");
  if (peek().kind == TokenKind::number && !at_end() && peek().punct == '.')
    refuse("a name followed by '.<digits>' is read differently by servers");
  return n;
}

void Parser::table_name(Access access) {
  if (punct('.')) refuse("a table name starting with '.'");
  Name n = qualified();
  if (punct('.')) refuse("'.*' where a table is expected");
  if (n.n == 3) syntax("three-part table name");
  if (n.n == 2)
    add_schema(n.parts[0], access);
  else if (current_)
    add_schema(*current_, access);
}

void Parser::schema_name(Access access) { add_schema(ident(), access); }

}  // namespace djproxy::policy::strict
