// The body of a statement: names (up to three parts) and where each is expected,
// the keywords that steer the reader, parenthesis frames, and the table and
// schema references a name becomes.
#include "policy/statement_reader.hpp"

#include "policy/lexer.hpp"
#include "policy/short_copy.hpp"
#include "policy/statement_reader_words.hpp"

namespace djproxy::policy {
using namespace reader_words;

void StatementReader::declare(std::string_view name) {
  if (declared_.contains(name)) return;
  if (declared_.size() >= kMaxRefs) return reject("too many table names in one statement");
  declared_.push_back(name);
}

void StatementReader::set_part(int i, std::string_view text) {
  static_assert(sizeof(Part::text) >= Lexer::kIdentCap, "the lexer keeps longer names than a part holds");
  Part& p = parts_[i];
  copy_short(p.text, text.data(), text.size());
  p.len = static_cast<std::uint16_t>(text.size());
}

void StatementReader::body(const Token& t) {
  Frame* f = &top();
  ++f->tokens;
  if (!unusual()) {
    if (failed()) return;
  } else {
    if (unusual_.capturing) capture(t);
    // A stored program's dynamic SQL runs text that exists only when it is called (a
    // parameter, a variable): every later CALL would run what no one read (found by review).
    if (unusual_.routine_body && t.kind == TokenKind::word && !t.after_dot &&
        (t.kw == Kw::PREPARE || t.kw == Kw::EXECUTE))
      return reject("dynamic SQL (PREPARE, EXECUTE) in a stored program");

    if (unusual_.table_option != TableOption::none) table_option(t);
    if (failed()) return;
    if ((unusual_.create_table && !create_like_or_select_) || unusual_.alter_table) {
      if (is_word(t, Kw::CONNECTION)) unusual_.table_option = TableOption::connection;
      if (is_word(t, Kw::ENGINE)) unusual_.table_option = TableOption::engine;
    }
    if (unusual_.alter_rename == 1) {
      if (t.kind == TokenKind::word && !t.after_dot &&
          (t.kw == Kw::COLUMN || t.kw == Kw::INDEX || t.kw == Kw::KEY)) {
        unusual_.alter_rename = 0;
        f->expect = Pos::none;
        return;
      }
      if (is_word(t, Kw::TO) || is_word(t, Kw::AS)) return;
      unusual_.alter_rename = 0;
    }
  }

  if (t.kind == TokenKind::sys_var) {
    if (nparts_ > 0) flush_name(&t);
    sysvar_name_ = true;
    return;
  }
  // Where a schema change expects a name, a word the server does not reserve is one, even
  // a word that steers the reader elsewhere (review round 8: `DROP TABLE a.t, local`,
  // `RENAME TABLE a.t TO value`, `DROP DATABASE local`).
  // WINDOW among them: the server reserves it only after a table (review round 9:
  // `DROP TABLE a.t, window`).
  const bool ddl_name = info_.kind == StatementKind::ddl && f->expect != Pos::none && t.kind == TokenKind::word &&
                        !t.reserved && nparts_ == 0;
  // @@local.x is @@session.x (opt_var_ident_type: LOCAL '.'), though LOCAL steers the
  // reader elsewhere (review round 23).
  const bool sysvar_scope = sysvar_name_ && nparts_ == 0 && is_word(t, Kw::LOCAL);
  if (is_name(t) || ddl_name || sysvar_scope ||
      (t.kind == TokenKind::punct && t.punct == '*' && f->expect == Pos::grant_target && nparts_ == 0)) {
    std::string_view text = t.kind == TokenKind::punct ? std::string_view("*") : t.text;
    if (t.truncated) return reject("identifier too long");
    if (nparts_ > 0 && pend_dot_) {
      if (nparts_ >= 3) return reject("name with more than three parts");
      set_part(nparts_++, text);
      pend_dot_ = false;
      return;
    }
    if (nparts_ > 0) flush_name(&t);
    if (failed()) return;
    set_part(0, text);
    nparts_ = 1;
    return;
  }
  if (t.kind == TokenKind::punct && t.punct == '.') {
    if (nparts_ > 0 && !pend_dot_ && !pend_star_) {
      pend_dot_ = true;
      return;
    }
    return reject("'.' that does not join two names", codes::parse_error);
  }
  if (t.kind == TokenKind::punct && t.punct == '*' && pend_dot_) {
    pend_dot_ = false;
    pend_star_ = true;
    flush_name(nullptr);
    return;
  }
  if (t.kind == TokenKind::number && t.punct == '.' &&
      (last_kind_ == TokenKind::word || last_kind_ == TokenKind::quoted_ident))
    return reject("a name followed by '." + std::string(t.text.substr(1, 16)) + "' is read differently by servers");
  if (pend_dot_) return reject("name expected after '.'", codes::parse_error);
  if (nparts_ > 0) flush_name(&t);
  if (failed()) return;
  if (phase_ == Phase::grant_tail) return grant_tail(t);
  f = &top();

  if (f->expect == Pos::grant_target && t.kind != TokenKind::punct) {
    info_.global_scope = true;  // GRANT PROXY ON 'user'@'host' TO accounts
    if (t.kind != TokenKind::string) return reject("GRANT PROXY ON needs an account");
    phase_ = Phase::grant_tail;
    grant_tail_ = GrantTail::proxied;
    return;
  }
  if (f->expect == Pos::table && f->tokens > 0 && t.kind == TokenKind::user_var) {
    f->expect = Pos::none;  // SELECT ... INTO @var
    return;
  }

  if (t.kind == TokenKind::word) return keyword(t);
  if (t.kind == TokenKind::punct) return punct(t);
}

// A table's storage engine decides where its rows live. A FEDERATED, CONNECT or SPIDER
// table reads and writes the tables its CONNECTION (or options) name, on any server and in
// any schema, a MERGE table those of its UNION list: only engines that keep rows in the
// table itself can be confined by a prefix and a token's scope (review round 6).
void StatementReader::table_option(const Token& t) {
  const TableOption option = unusual_.table_option;
  unusual_.table_option = TableOption::none;
  if (option == TableOption::connection) {
    // The option, not a column named so, is followed by '=' or a string.
    if (is_punct(t, '=') || t.kind == TokenKind::string)
      reject("a table's CONNECTION (FEDERATED, CONNECT, SPIDER engines)");
    return;
  }
  if (option == TableOption::engine && is_punct(t, '=')) {
    unusual_.table_option = TableOption::engine_name;
    return;
  }
  static constexpr std::string_view kConfined[] = {"InnoDB", "XtraDB", "Aria", "MyISAM", "MEMORY", "HEAP",
                                                   "CSV", "ARCHIVE", "BLACKHOLE", "SEQUENCE", "RocksDB"};
  static constexpr std::string_view kReaching[] = {"FEDERATED", "FEDERATEDX", "CONNECT", "SPIDER",
                                                   "MRG_MyISAM", "MERGE", "OQGRAPH", "S3"};
  const bool definite = option == TableOption::engine_name || t.kind == TokenKind::string;
  if (definite) {  // ENGINE = name, ENGINE 'name': the option, whose name must be a confined engine
    for (std::string_view e : kConfined)
      if (ieq(t.text, e)) return;
    return reject("ENGINE " + std::string(t.text.substr(0, 64)) + ": only engines that keep a table's rows in it");
  }
  // ENGINE name without '=' may also be a column named engine and its type: refused only
  // when the word names an engine that reaches other tables.
  if (t.kind == TokenKind::word || t.kind == TokenKind::quoted_ident)
    for (std::string_view e : kReaching)
      if (ieq(t.text, e)) return reject("ENGINE " + std::string(e) + ": only engines that keep a table's rows in it");
}

void StatementReader::keyword(const Token& t) {
  Frame& f = top();
  const bool d0 = frames_.size() == 1;
  switch (t.kw) {
    case Kw::SELECT:
      f.stmt = true;
      f.list = false;
      f.expect = Pos::none;
      f.after_table = false;
      f.access = Access::read;
      f.cte = false;
      if (unusual_.create_table && d0) create_like_or_select_ = true;
      return;
    case Kw::VALUES: case Kw::VALUE:
      if (f.tokens == 1) f.stmt = true;
      f.list = false;
      f.expect = Pos::none;
      f.after_table = false;
      f.cte = false;
      return;
    case Kw::TABLE:
      // The second table of ALTER TABLE: EXCHANGE PARTITION p WITH TABLE t, CONVERT
      // PARTITION p TO TABLE t, CONVERT TABLE t TO PARTITION. The statement changes,
      // creates or drops it (review round 6: read as a read, it escaped a token's scope).
      if (unusual_.alter_table && d0) {
        expect(Pos::object, Access::ddl);
        return;
      }
      if (f.expect != Pos::table) {
        f.expect = Pos::table;
        f.access = Access::read;
      }
      f.after_table = false;
      f.cte = false;
      if (f.tokens == 1) f.stmt = true;
      if (unusual_.create_table && d0) create_like_or_select_ = true;
      return;
    case Kw::WITH:
      if (f.tokens == 1) {
        f.cte = true;
        f.stmt = true;
      }
      return;
    case Kw::FROM: case Kw::IN:
      if (show_mode_ && d0) {
        ++show_from_count_;
        if (show_columns_ && show_from_count_ == 1)
          f.expect = Pos::show_table;
        else
          f.expect = Pos::show_schema;
        return;
      }
      if (t.kw == Kw::FROM && f.stmt) {
        f.expect = Pos::table;
        f.list = true;
        f.list_pos = Pos::table;
        f.after_table = false;
      }
      return;
    case Kw::JOIN: case Kw::STRAIGHT_JOIN:
      f.expect = Pos::table;
      f.list = true;
      f.list_pos = Pos::table;
      f.after_table = false;
      return;
    case Kw::ON:
      if (on_is_target_ && d0) {
        expect(Pos::object, Access::ddl);
        return;
      }
      f.expect = Pos::none;
      f.after_table = false;
      return;
    case Kw::USING:
      if (delete_stmt_ && d0 && f.list) {
        f.expect = Pos::table;
        f.after_table = false;
        return;
      }
      f.expect = Pos::none;
      f.after_table = false;
      return;
    case Kw::WHERE: case Kw::GROUP: case Kw::HAVING: case Kw::ORDER: case Kw::LIMIT: case Kw::WINDOW:
    case Kw::RETURNING: case Kw::UNION: case Kw::EXCEPT: case Kw::INTERSECT: case Kw::SET: case Kw::FOR:
    case Kw::LOCK: case Kw::LIKE:
      // A MERGE table's UNION = (t1, t2) writes into the tables it lists, unqualified
      // ones in the current schema (review round 6).
      if (t.kw == Kw::UNION && d0 && (unusual_.alter_table || (unusual_.create_table && !create_like_or_select_)))
        return reject("the UNION table list of a MERGE table");
      if (t.kw == Kw::LIKE && unusual_.create_table &&
          (d0 || (frames_.size() == 2 && f.defs && f.tokens == 1))) {
        f.expect = Pos::table;
        f.access = Access::read;
        create_like_or_select_ = true;
        return;
      }
      if (d0 && show_mode_ && (t.kw == Kw::LIKE || t.kw == Kw::WHERE)) show_mode_ = false;
      f.list = false;
      f.expect = Pos::none;
      f.after_table = false;
      if (t.kw == Kw::WHERE && d0 && (delete_stmt_ || update_stmt_) && !unusual_.capturing) unusual_.capturing = true;
      return;
    case Kw::INTO:
      f.expect = Pos::table;
      f.after_table = false;
      f.list = false;
      return;
    case Kw::AS:
      if (f.after_table) alias_next_ = true;
      return;
    case Kw::REFERENCES:
      f.expect = Pos::table;
      f.access = Access::read;
      return;
    case Kw::DUAL:
      if (f.expect == Pos::table) {
        f.expect = Pos::none;
        f.after_table = true;
      }
      return;
    case Kw::TO:
      if (rename_list_ && d0) {
        expect(Pos::object, Access::ddl);
        return;
      }
      f.after_table = false;
      return;
    case Kw::RENAME:
      // ALTER TABLE t RENAME [TO] u; ALTER EVENT e RENAME TO f moves the event (review round 6).
      if ((unusual_.alter_table || (verb_ == Kw::ALTER && info_.object == ObjectKind::event)) && d0) {
        unusual_.alter_rename = 1;
        expect(Pos::object, Access::ddl);
      }
      return;
    case Kw::UPDATE: case Kw::DELETE: case Kw::INSERT: case Kw::REPLACE:
      if (d0 && (f.cte || unusual_.routine_body)) {
        if (f.cte) info_.kind = StatementKind::dml;
        f.cte = false;
        f.stmt = true;
        if (t.kw == Kw::DELETE) delete_stmt_ = true;
        expect(Pos::table, Access::write, t.kw == Kw::UPDATE || t.kw == Kw::DELETE);
      }
      return;
    case Kw::BEGIN:
      if (unusual_.routine_body) reject("compound statements (BEGIN ... END) in stored programs are not supported");
      return;
    default:
      f.after_table = false;
      return;
  }
}

void StatementReader::punct(const Token& t) {
  Frame& f = top();
  switch (t.punct) {
    case '(': {
      if (frames_.size() >= kMaxDepth) return reject("parentheses nested too deeply");
      Frame nf;
      if (f.expect == Pos::table) {
        nf.from_table_pos = true;
        nf.stmt = true;
        nf.list = true;
        nf.list_pos = Pos::table;
        nf.expect = Pos::table;
        nf.access = Access::read;
        f.expect = Pos::none;
      }
      if (json_pending_) {
        nf.table_fn = true;
        json_pending_ = false;
      }
      if (defs_pending_) {
        nf.defs = true;
        defs_pending_ = false;
      }
      frames_.push_back(nf);
      return;
    }
    case ')': {
      if (frames_.size() == 1) return reject("unbalanced parentheses", codes::parse_error);
      const Frame closed = frames_.back();
      frames_.pop_back();
      if (closed.from_table_pos || closed.table_fn) top().after_table = true;
      return;
    }
    case ',':
      if (f.list) {
        f.expect = f.list_pos;
        f.after_table = false;
      }
      alias_next_ = false;
      return;
    default:
      f.after_table = false;
      return;
  }
}

void StatementReader::flush_name(const Token* next) {
  const int n = nparts_;
  const bool star = pend_star_;
  nparts_ = 0;
  pend_star_ = false;
  pend_dot_ = false;
  if (n == 0) return;
  Frame& f = top();
  const std::string_view p0 = parts_[0].view();
  const std::string_view p1 = parts_[1].view();
  const bool call = next && next->kind == TokenKind::punct && next->punct == '(';

  if (sysvar_name_) {
    sysvar_name_ = false;
    if (set_stmt_ && n >= 2 && (ieq(p0, "global") || ieq(p0, "persist") || ieq(p0, "persist_only"))) {
      info_.kind = StatementKind::administrative;
      info_.verb = "SET GLOBAL";
    }
    return;
  }
  if (skip_names_ > 0) {
    --skip_names_;
    return;
  }
  if (alias_next_) {
    alias_next_ = false;
    f.after_table = false;
    if (n != 1 || star) return reject("qualified alias");
    return declare(p0);
  }
  const Pos pos = f.expect;
  if (pos == Pos::none) {
    if (f.cte && n == 1 && !star) return declare(p0);
    if (f.after_table && n == 1 && !call && !star) {
      f.after_table = false;
      return declare(p0);
    }
    f.after_table = false;
    if (star) {
      if (n == 2) add_object(p0, p1, Access::read);
      else if (n >= 3) return reject("name with more than three parts");
      return;
    }
    if (call) {
      if (n == 2) add_object(p0, p1, Access::read);  // db.func(...)
      else if (n == 3) return reject("three-part function name");
      return;
    }
    if (n == 3) add_object(p0, p1, Access::read);  // db.table.column
    else if (n == 2) {
      if (!candidates_.contains(p0)) {
        if (candidates_.size() >= kMaxRefs) return reject("too many qualified names in one statement");
        candidates_.push_back(p0);
      }
    }
    return;
  }
  f.expect = Pos::none;
  switch (pos) {
    case Pos::table: case Pos::object: case Pos::routine: {
      if (star) {  // DELETE t.* FROM ..., db.t.*
        if (n == 2) add_object(p0, p1, f.access);
        return;
      }
      if (pos == Pos::table && n == 1 && call && ieq(p0, "JSON_TABLE")) {
        json_pending_ = true;
        return;
      }
      if (n == 3) return reject("three-part table name");
      const std::optional<std::string_view> schema = n == 2 ? std::optional<std::string_view>(p0) : view(current_);
      const std::string_view name = n == 2 ? p1 : p0;
      add_object(schema, name, f.access);
      declare(name);
      if (pos == Pos::table) f.after_table = true;
      if (unusual_.create_table && call && frames_.size() == 1) {
        defs_pending_ = true;
        had_defs_ = true;
      }
      return;
    }
    case Pos::schema: case Pos::use_schema: case Pos::show_schema:
      if (n != 1 || star) return reject("qualified schema name");
      if (pos == Pos::show_schema) {
        show_schema_ = std::string(p0);
        return;
      }
      add_schema(p0, f.access);
      if (pos == Pos::use_schema) info_.new_current_schema = std::string(p0);
      return;
    case Pos::show_table:
      show_table_schema_ = n == 2 ? std::optional<std::string>(p0) : std::nullopt;
      show_table_ = parts_[n - 1].view();
      if (n == 3 || star) return reject("cannot read this SHOW name");
      return;
    case Pos::grant_target: {
      phase_ = Phase::grant_tail;
      grant_tail_ = GrantTail::to;
      if (n == 1 && !star) {
        if (p0 == "*") {
          if (!current_) return reject("GRANT ON * without a current schema");
          return add_grant_pattern(*current_);
        }
        return add_object(view(current_), p0, Access::ddl);
      }
      if (n == 1 && star) {  // x.*
        if (p0 == "*") {
          info_.global_scope = true;
          return add_schema("*", Access::ddl);
        }
        return add_grant_pattern(p0);
      }
      if (n == 2 && !star) return add_object(p0, p1, Access::ddl);
      return reject("cannot read the GRANT target");
    }
    case Pos::none:
      return;
  }
}

}  // namespace djproxy::policy
