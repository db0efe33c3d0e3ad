#include "policy/routine_body.hpp"

#include "policy/keywords.hpp"
#include "policy/strict_parser.hpp"

namespace djproxy::policy {
namespace {

using strict::ieq;

bool is_word(const Token& t) { return t.kind == TokenKind::word && !t.after_dot; }
bool is(const Token& t, std::string_view w) { return is_word(t) && ieq(t.text, w); }
bool is_punct(const Token& t, char c) { return t.kind == TokenKind::punct && t.punct == c; }
bool is_name(const Token& t) { return t.kind == TokenKind::word || t.kind == TokenKind::quoted_ident; }

// Words after which a CREATE defines no stored program (the definer, OR REPLACE,
// AGGREGATE and the like are passed over).
bool other_object(const Token& t) {
  for (std::string_view w : {"TABLE", "DATABASE", "SCHEMA", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "USER",
                             "ROLE", "SERVER", "SEQUENCE", "TEMPORARY", "TABLESPACE", "LOGFILE", "PACKAGE"})
    if (is(t, w)) return true;
  return false;
}

const Token& select_word() {
  static const Token t = [] {
    Token s;
    s.kind = TokenKind::word;
    s.kw = Kw::SELECT;
    s.text = "SELECT";
    return s;
  }();
  return t;
}

// A view body's WITH, held back until the next token shows whether it begins the
// definition's WITH CHECK OPTION or belongs to the query (WITH ROLLUP).
const Token& with_word() {
  static const Token t = [] {
    Token s;
    s.kind = TokenKind::word;
    s.kw = Kw::WITH;
    s.reserved = true;
    s.text = "WITH";
    return s;
  }();
  return t;
}

}  // namespace

void RoutineBody::reset(const std::optional<std::string>& current_schema) {
  current_ = &current_schema;
  schema_.reset();
  stage_ = Stage::start;
  kind_ = Kind::none;
  alter_ = false;
  depth_ = 0;
  parts_ = 0;
  first_part_.clear();
  skip_ = 0;
  dot_ = false;
  each_ = false;
  wants_ = 0;
  after_comment_ = false;
  security_ = false;
  held_with_ = false;
  tail_ = 0;
  charset_ = 0;
  body_first_ = true;
  set_ = -1;
  refusal_.clear();
}

void RoutineBody::refuse(std::string why) {
  if (stage_ == Stage::refused) return;
  refusal_ = std::move(why);
  stage_ = Stage::refused;
}

void RoutineBody::begin_body() {
  if (!body_) body_.emplace(config_);
  body_->reset(schema_, true);
  stage_ = Stage::body;
}

void RoutineBody::on_token(const Token& t) {
  switch (stage_) {
    case Stage::inactive:
    case Stage::refused:
      return;
    case Stage::start:
      if (t.kind == TokenKind::word && (t.kw == Kw::CREATE || t.kw == Kw::ALTER)) {
        alter_ = t.kw == Kw::ALTER;
        stage_ = Stage::head;
      } else {
        stage_ = Stage::inactive;
      }
      return;
    case Stage::head:
      if (skip_ > 0) {  // DEFINER = user[@host]: the user, then a host if one follows
        if (skip_ == 2) {
          if (!is_punct(t, '=')) return refuse("DEFINER without '='");
          skip_ = 1;
          return;
        }
        if (skip_ == 1) {
          if (is(t, "CURRENT_USER")) {
            skip_ = 0;
            return;
          }
          skip_ = -1;
          return;
        }
      }
      if (skip_ == -1) {
        skip_ = 0;
        if (t.kind == TokenKind::user_var) return;
      }
      if (is_punct(t, '(')) ++depth_;
      else if (is_punct(t, ')')) --depth_;
      if (depth_ != 0 || !is_word(t)) return;
      if (is(t, "DEFINER") && !security_) {  // DEFINER = user, not SQL SECURITY DEFINER
        skip_ = 2;
        return;
      }
      security_ = is(t, "SECURITY");
      if (other_object(t)) {
        stage_ = Stage::inactive;
        return;
      }
      kind_ = is(t, "PROCEDURE") ? Kind::procedure
              : is(t, "FUNCTION") ? Kind::function
              : is(t, "TRIGGER")  ? Kind::trigger
              : is(t, "EVENT")    ? Kind::event
              : is(t, "VIEW")     ? Kind::view
                                  : Kind::none;
      if (kind_ == Kind::none) return;
      // ALTER PROCEDURE / FUNCTION change characteristics only; ALTER EVENT may carry DO,
      // ALTER VIEW always has its query.
      stage_ = alter_ && kind_ != Kind::event && kind_ != Kind::view ? Stage::inactive : Stage::ident;
      return;
    case Stage::ident:  // [IF NOT EXISTS] name
      if (is(t, "IF") || is(t, "NOT") || is(t, "EXISTS")) return;
      if (!is_name(t)) return refuse("a stored program's name expected");
      first_part_.assign(t.text);
      parts_ = 1;
      stage_ = Stage::name;
      return;
    case Stage::name:
      if (parts_ == 1 && !dot_ && is_punct(t, '.')) {
        dot_ = true;
        return;
      }
      if (dot_) {
        if (!is_name(t)) return refuse("a stored program's name expected after '.'");
        schema_ = first_part_;
        parts_ = 2;
        dot_ = false;
        return;
      }
      if (parts_ == 1) schema_ = *current_;
      stage_ = kind_ == Kind::trigger ? Stage::trigger_head
               : kind_ == Kind::event ? Stage::event_head
               : kind_ == Kind::view  ? Stage::view_head
                                      : Stage::params;
      if (stage_ == Stage::params) {
        if (!is_punct(t, '(')) return refuse("'(' expected after a routine's name");
        depth_ = 1;
        return;
      }
      return on_token(t);
    case Stage::params:
      if (is_punct(t, '(')) ++depth_;
      else if (is_punct(t, ')') && --depth_ == 0)
        stage_ = kind_ == Kind::function ? Stage::returns : Stage::characteristics;
      return;
    case Stage::returns:
      if (!is(t, "RETURNS")) return refuse("RETURNS expected after a function's parameters");
      stage_ = Stage::type;
      return;
    case Stage::type:
      if (!is_word(t)) return refuse("a function's return type expected");
      stage_ = Stage::type_after;
      return;
    case Stage::type_args:
      if (is_punct(t, ')')) stage_ = Stage::type_after;
      else if (t.kind != TokenKind::number && t.kind != TokenKind::string && !is_punct(t, ','))
        return refuse("a function's return type that djproxy does not read");
      return;
    case Stage::type_after:
      if (charset_ == 2) {
        if (!is(t, "SET")) return refuse("CHARACTER SET expected");
        charset_ = 1;
        return;
      }
      if (charset_ == 1) {
        if (!is_name(t) && t.kind != TokenKind::string) return refuse("a character set or collation name expected");
        charset_ = 0;
        return;
      }
      if (is_punct(t, '(')) {
        stage_ = Stage::type_args;
        return;
      }
      if (is(t, "UNSIGNED") || is(t, "SIGNED") || is(t, "ZEROFILL") || is(t, "BINARY")) return;
      // Two-word types: DOUBLE PRECISION, CHAR VARYING, LONG VARCHAR, NATIONAL CHAR (review round 8).
      if (is(t, "PRECISION") || is(t, "VARYING") || is(t, "VARCHAR") || is(t, "VARBINARY") || is(t, "CHAR") ||
          is(t, "VARCHARACTER"))
        return;
      if (is(t, "CHARSET") || is(t, "COLLATE")) {
        charset_ = 1;
        return;
      }
      if (is(t, "CHARACTER")) {
        charset_ = 2;
        return;
      }
      stage_ = Stage::characteristics;
      return on_token(t);
    case Stage::characteristics:
      return characteristic(t);
    case Stage::trigger_head:  // {BEFORE | AFTER} {INSERT | UPDATE | DELETE} ON table FOR EACH ROW
      if (is(t, "EACH")) {
        each_ = true;
        return;
      }
      if (each_) {
        if (!is(t, "ROW")) return refuse("FOR EACH ROW expected");
        stage_ = Stage::trigger_order;
      }
      return;
    case Stage::trigger_order:  // [{FOLLOWS | PRECEDES} other_trigger]
      if (skip_ > 0) {
        skip_ = 0;
        if (!is_name(t)) return refuse("a trigger's name expected");
        return;
      }
      if (is(t, "FOLLOWS") || is(t, "PRECEDES")) {
        skip_ = 1;
        return;
      }
      begin_body();
      return feed(t);
    case Stage::event_head:  // ON SCHEDULE ... [ON COMPLETION ...] [ENABLE | DISABLE ...] [COMMENT '...'] DO
      if (is_punct(t, '(')) ++depth_;
      else if (is_punct(t, ')')) --depth_;
      if (depth_ == 0 && is(t, "DO")) begin_body();
      return;
    case Stage::view_head:  // [(columns)] AS
      if (is_punct(t, '(')) ++depth_;
      else if (is_punct(t, ')')) --depth_;
      else if (depth_ == 0) {
        if (!is(t, "AS")) return refuse("AS expected in a view's definition");
        // A view's unqualified names are the current schema's when it is created, not the view's.
        schema_ = *current_;
        begin_body();
      }
      return;
    case Stage::view_tail:  // WITH [CASCADED | LOCAL] CHECK OPTION: CHECK (tail_ 0), OPTION (1), the end (2)
      if (tail_ == 0 && is(t, "CHECK")) tail_ = 1;
      else if (tail_ == 1 && is(t, "OPTION")) tail_ = 2;
      else return refuse("a view's definition djproxy does not read after WITH CHECK OPTION");
      return;
    case Stage::body:
      return feed(t);
  }
}

// sp_c_chistic: COMMENT 'text', LANGUAGE SQL, [NOT] DETERMINISTIC, CONTAINS SQL, NO SQL,
// READS SQL DATA, MODIFIES SQL DATA, SQL SECURITY {DEFINER | INVOKER}. Anything else
// begins the body, as it does for the server.
void RoutineBody::characteristic(const Token& t) {
  if (after_comment_) {
    if (t.kind != TokenKind::string) return refuse("COMMENT without its text");
    after_comment_ = false;
    return;
  }
  if (wants_ > 0) {
    if (!is(t, want_[0]) && !(want_[0] == "DEFINER" && is(t, "INVOKER")))
      return refuse(std::string(want_[0]) + " expected in a stored program's characteristics");
    want_[0] = want_[1];
    --wants_;
    return;
  }
  const auto want = [&](std::string_view a, std::string_view b = {}) {
    want_[0] = a;
    want_[1] = b;
    wants_ = b.empty() ? 1 : 2;
  };
  if (is(t, "COMMENT")) after_comment_ = true;
  else if (is(t, "LANGUAGE") || is(t, "CONTAINS") || is(t, "NO")) want("SQL");
  else if (is(t, "NOT")) want("DETERMINISTIC");
  else if (is(t, "READS") || is(t, "MODIFIES")) want("SQL", "DATA");
  else if (is(t, "SQL")) want("SECURITY", "DEFINER");
  else if (is(t, "DETERMINISTIC")) return;
  else if (kind_ == Kind::function) {
    if (!is(t, "RETURN")) return refuse("a function's body other than RETURN expression");
    begin_body();
    body_first_ = false;
    body_->on_token(select_word());
  } else {
    begin_body();
    feed(t);
  }
}

void RoutineBody::feed(const Token& t) {
  if (kind_ == Kind::view) {
    if (held_with_) {
      held_with_ = false;
      if (depth_ == 0 && (is(t, "CASCADED") || is(t, "LOCAL") || is(t, "CHECK"))) {
        stage_ = Stage::view_tail;
        tail_ = is(t, "CHECK") ? 1 : 0;
        return;
      }
      body_->on_token(with_word());
    } else if (!body_first_ && depth_ == 0 && is(t, "WITH")) {
      held_with_ = true;
      return;
    }
    body_first_ = false;
    if (is_punct(t, '(')) ++depth_;
    else if (is_punct(t, ')')) --depth_;
    body_->on_token(t);
    return;
  }
  if (body_first_) {
    body_first_ = false;
    if (kind_ == Kind::trigger && is(t, "SET")) {
      set_ = 0;
      depth_ = 0;
      body_->on_token(select_word());
      return;
    }
  }
  if (set_ >= 0) return set_item(t);
  body_->on_token(t);
}

// A trigger's SET NEW.column = expression, ... (or @variable = ...) read as the list of
// its expressions.
void RoutineBody::set_item(const Token& t) {
  switch (set_) {
    case 0:
      if (t.kind == TokenKind::user_var) set_ = 3;
      else if (is(t, "NEW")) set_ = 1;
      else refuse("a trigger's SET of something other than NEW.column or a user variable");
      return;
    case 1:
      if (!is_punct(t, '.')) return refuse("NEW.column expected");
      set_ = 2;
      return;
    case 2:
      if (!is_name(t)) return refuse("NEW.column expected");
      set_ = 3;
      return;
    case 3:
      if (is_punct(t, ':')) set_ = 4;
      else if (is_punct(t, '=')) set_ = 5;
      else refuse("'=' expected in a trigger's SET");
      return;
    case 4:
      if (!is_punct(t, '=')) return refuse("':=' expected in a trigger's SET");
      set_ = 5;
      return;
    default:
      if (is_punct(t, '(')) ++depth_;
      else if (is_punct(t, ')')) --depth_;
      if (depth_ == 0 && is_punct(t, ',')) set_ = 0;
      body_->on_token(t);
      return;
  }
}

std::optional<StrictResult> RoutineBody::finish() {
  switch (stage_) {
    case Stage::start:
    case Stage::inactive:
    case Stage::head:
      return std::nullopt;
    case Stage::refused: {
      StrictResult r;
      r.ok = false;
      r.why = std::move(refusal_);
      return r;
    }
    case Stage::view_tail:
      if (tail_ != 2) {
        StrictResult r;
        r.ok = false;
        r.why = "an incomplete WITH CHECK OPTION in a view's definition";
        return r;
      }
      return std::move(body_->finish());
    case Stage::body: {
      if (held_with_) body_->on_token(with_word());  // the query's own trailing WITH: not valid SQL
      if (set_ >= 0 && set_ < 5) {
        StrictResult r;
        r.ok = false;
        r.why = "an incomplete SET in a trigger's body";
        return r;
      }
      return std::move(body_->finish());
    }
    default:
      if (alter_) return std::nullopt;  // ALTER EVENT without DO
      StrictResult r;
      r.ok = false;
      r.why = "a stored program's definition djproxy does not read";
      return r;
  }
}

}  // namespace djproxy::policy
