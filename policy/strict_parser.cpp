// The allow-list parser's token helpers and the references it records.
#include "policy/strict_parser.hpp"

namespace djproxy::policy::strict {
void Parser::expect(std::string_view kw) {
  if (!accept(kw)) syntax(std::string(kw) + " expected");
}

void Parser::expect(char c) {
  if (!accept(c)) syntax(std::string("'") + c + "' expected");
}

std::string_view Parser::ident() {
  if (!ident_at()) syntax("name expected");
  const StrictToken& t = peek();
  if (t.truncated) refuse("name too long");
  ++pos_;
  return text(t);
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

void Parser::add_schema(std::string_view schema, Access access) {
  if (body_ && ieq(schema, "information_schema"))
    refuse("information_schema in a stored program's body (it would show what the program's definer sees)");
  for (auto& s : out_.schemas) {
    if (s.name == schema) {
      if (static_cast<int>(access) > static_cast<int>(s.access)) s.access = access;
      return;
    }
  }
  if (out_.schemas.size() >= 512) refuse("too many schema references");
  out_.schemas.push_back(SchemaUse{std::string(schema), access});
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
  written_in_body(n, access);
  if (n.n == 2)
    add_schema(n.parts[0], access);
  else if (current_)
    add_schema(*current_, access);
}

// The lineage rule reads each statement a worker sends; a body's statements run unread
// at each call (review round 8: a procedure deleted ~lineage rows outside any migration).
void Parser::written_in_body(const Name& n, Access access) const {
  if (body_ && access != Access::read && n.n >= 1 && ieq(n.parts[n.n - 1], "~lineage"))
    refuse("a change to DataJoint's ~lineage in a stored program's body");
}

void Parser::schema_name(Access access) { add_schema(ident(), access); }

void Parser::charset_name() {
  // a name, a string, or BINARY (a reserved word that names the binary character set)
  if (!accept("BINARY") && !(peek().kind == TokenKind::string && !at_end() && (++pos_, true))) ident();
}

}  // namespace djproxy::policy::strict
