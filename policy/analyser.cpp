#include "policy/analyser.hpp"

#include <algorithm>

#include "policy/lexer.hpp"
#include "policy/routine_body.hpp"
#include "policy/rules.hpp"
#include "policy/server_files.hpp"
#include "policy/statement_reader.hpp"
#include "policy/strict_parser.hpp"
#include "policy/strict_reader.hpp"

namespace djproxy::policy {
namespace {

constexpr std::size_t kMaxStatements = 256;
constexpr std::size_t kMaxPreparedNames = 256;

LexOptions lex_options(const SessionState& s) {
  return LexOptions{s.sql_mode, s.flavour, s.server_version, s.charset};
}

// The text of PREPARE / EXECUTE IMMEDIATE, read as a packet of its own (the readers'
// NestedAnalysis).
std::vector<StatementInfo> analyse_nested(std::string_view text, const SessionState& state,
                                          const PolicyConfig& config,
                                          const std::optional<std::string>& current_schema, int nesting);

}  // namespace

struct StreamingAnalyser::Impl final : TokenSink {
  Impl(const SessionState& s, const PolicyConfig& c, Command cmd, int nesting,
       std::optional<std::string> current)
      : state(s), config(c), command(cmd), nesting(nesting), current(std::move(current)),
        lexer(lex_options(s), *this), strict(c), routine(c) {
    reader.emplace(state, config, this->current, nesting, &analyse_nested, next_slot());
    strict.reset(this->current);
    routine.reset(this->current);
  }

  void on_token(const Token& t) override {
    if (t.kind == TokenKind::punct && t.punct == ';') {
      end_statement();
      return;
    }
    if (t.kind == TokenKind::user_var && !names_token && strict::ieq(t.text, "djproxy_migration")) names_token = true;
    reader->on_token(t);
    strict.on_token(t);
    files.on_token(t);
    if (routine.listening()) routine.on_token(t);
  }

  // The allow-list reader's verdict and references join what the reader found.
  static void merge(StatementInfo& info, StrictResult& r) {
    if (!r.ok) {
      if (info.strict_refusal.empty()) {
        info.strict_refusal = std::move(r.why);
        info.strict_code = r.code;
      }
      return;
    }
    if (r.head_only) info.strict_head_only = true;
    // An upsert or REPLACE into ~lineage whose every row is a bookkeeping table's.
    if (r.lineage_rows == StrictResult::LineageRows::bookkeeping && writes_lineage_rows(info) &&
        (info.verb.starts_with("INSERT") || info.verb.starts_with("REPLACE")))
      info.lineage_condition_bookkeeping_only = true;
    if (r.lineage_rows == StrictResult::LineageRows::other) info.lineage_condition_bookkeeping_only = false;
    for (auto& u : r.schemas) {
      bool known = false;
      for (const auto& have : info.schemas)
        if (have.name == u.name && static_cast<int>(have.access) >= static_cast<int>(u.access)) known = true;
      if (!known) info.schemas.push_back(std::move(u));
    }
  }

  // A stored program's body runs unread at each call: it must be a statement the
  // allow-list reader reads whole (policy/routine_body.hpp).
  static void merge_body(StatementInfo& info, std::optional<StrictResult> body) {
    if (!body || !info.unsupported.empty()) return;
    if (!body->ok) {
      info.unsupported = "a stored program's body: " + body->why;
      info.unsupported_code = codes::not_supported;
      return;
    }
    if (body->head_only) {
      info.unsupported = "a stored program's body that production would refuse (it would run unread at each call)";
      info.unsupported_code = codes::not_supported;
      return;
    }
    merge(info, *body);
  }

  // Where the next statement's reader writes: its place at the end of the list, or past
  // the bound a spare that is dropped.
  StatementInfo& next_slot() {
    slot_in_list = statements.size() < kMaxStatements;
    if (slot_in_list) return statements.emplace_back();
    return spare.emplace();
  }

  void end_statement(bool more = true) {
    if (reader->empty()) {
      if (slot_in_list) statements.pop_back();
    } else {
      StatementInfo& info = reader->finish();
      if (writes_lineage_rows(info))
        if (const auto condition = reader->row_condition(); !condition.empty())
          info.lineage_condition_bookkeeping_only = picks_bookkeeping_lineage_rows(condition);
      merge(info, strict.finish());
      merge_body(info, routine.finish());
      if (!files.found().empty()) info.server_file = files.found();
      if (info.new_current_schema && info.unsupported.empty()) current = info.new_current_schema;
      if (info.unsupported.empty()) follow_prepared_names(info);
      if (!slot_in_list) too_many = true;
    }
    if (more) {
      reader.emplace(state, config, current, nesting, &analyse_nested, next_slot());
      strict.reset(current);
      routine.reset(current);
      files.reset();
    }
  }

  // The statement names this packet leaves prepared from text that was read, in order:
  // PREPARE adds its name, a procedure that may run (CALL, or the execution of a
  // prepared CALL) forgets them all, and EXECUTE of a name not among them is refused.
  void follow_prepared_names(StatementInfo& info) {
    // CALL is dml; PREPARE and EXECUTE IMMEDIATE are via_prepare; EXECUTE name is dynamic_sql.
    if (info.kind != StatementKind::dynamic_sql && info.kind != StatementKind::dml && !info.via_prepare) return;
    const bool execute = info.kind == StatementKind::dynamic_sql && info.verb == "EXECUTE";
    const bool prepare = info.via_prepare && info.verb.starts_with("PREPARE ");
    const bool call = info.verb == "CALL" || info.verb == "EXECUTE IMMEDIATE CALL";
    if (!execute && !prepare && !call) return;
    if (!names) names = state.prepared_names;
    const auto known = std::find_if(names->begin(), names->end(),
                                    [&](const PreparedName& p) { return p.name == info.statement_name; });
    if (execute) {
      if (known == names->end()) {
        info.unsupported = "EXECUTE of `" + info.statement_name +
                           "`, which was not prepared in this session from text djproxy read (a stored procedure "
                           "can prepare a statement under any name); PREPARE it again first";
        info.unsupported_code = codes::not_supported;
      } else if (known->charset != state.charset) {
        info.unsupported = "EXECUTE of `" + info.statement_name +
                           "`, prepared in another client character set: the server may read its text again in "
                           "this one; PREPARE it again first";
        info.unsupported_code = codes::not_supported;
      } else if (known->calls) {
        names->clear();
      }
    } else if (prepare) {
      // A PREPARE that fails on the server leaves no statement under the name.
      const bool calls = info.verb == "PREPARE CALL";
      if (known != names->end()) names->erase(known);
      prepared_here.push_back(info.statement_name);
      // Bounded: a name forgotten is refused at its EXECUTE, never let through.
      if (names->size() >= kMaxPreparedNames) names->erase(names->begin());
      names->push_back(PreparedName{info.statement_name, calls, state.charset});
    } else {
      names->clear();
    }
  }

  std::vector<StatementInfo> finish_statements() {
    lexer.finish();
    if (lexer.failed()) {
      StatementInfo info;
      info.kind = StatementKind::unknown;
      info.unsupported = lexer.error();
      info.unsupported_code = lexer.error_code();
      statements.clear();
      statements.push_back(std::move(info));
      return std::move(statements);
    }
    end_statement(false);
    if (statements.empty()) {
      StatementInfo info;
      info.kind = StatementKind::empty;
      statements.push_back(std::move(info));
    }
    return std::move(statements);
  }

  const SessionState& state;
  const PolicyConfig& config;
  Command command;
  int nesting;
  std::optional<std::string> current;
  Lexer lexer;
  std::optional<StatementReader> reader;
  StrictReader strict;
  RoutineBody routine;
  ServerFileScan files;
  std::vector<StatementInfo> statements;
  std::optional<StatementInfo> spare;
  bool slot_in_list = false;
  bool too_many = false;
  std::optional<std::vector<PreparedName>> names;  // set once the packet changes them
  std::vector<std::string> prepared_here;          // names this packet PREPAREs
  bool names_token = false;
};

StreamingAnalyser::StreamingAnalyser(const SessionState& state, const PolicyConfig& config, Command command)
    : impl_(std::make_unique<Impl>(state, config, command, 0, state.current_schema)) {}

StreamingAnalyser::~StreamingAnalyser() = default;

void StreamingAnalyser::feed(std::string_view chunk) { impl_->lexer.feed(chunk); }

namespace {

bool changes_tracking(const std::vector<StatementInfo>& statements) {
  for (const auto& s : statements) {
    if (s.changes_tracking) return true;
  }
  return false;
}

bool lexing_change(const std::vector<StatementInfo>& statements) {
  for (const auto& s : statements)
    if (s.changes_lexing) return true;
  return false;
}

// The packet is read with the state it started with; a statement that changes how
// the server lexes is safe only when nothing follows it.
bool lexing_change_before_more(const std::vector<StatementInfo>& statements) {
  bool changed = false;
  for (const auto& s : statements) {
    if (s.kind == StatementKind::empty) continue;
    if (changed) return true;
    changed = s.changes_lexing;
  }
  return false;
}

// The packet's decision. Returned as a new object on every path, so that it is built
// in its place in the Analysis (a Decision is seven strings, costly to move).
Decision packet_decision(const std::vector<StatementInfo>& statements, const StreamingAnalyser::Impl& impl,
                         bool too_many) {
  const auto& st = impl.state;
  const auto& cfg = impl.config;
  std::size_t real = 0;
  for (const auto& s : statements)
    if (s.kind != StatementKind::empty) ++real;
  if (too_many) {
    return reject(codes::not_supported, Rule::fail_closed,
                  "djproxy: packet rejected: more than 256 statements in one packet");
  } else if (real > 1 && impl.command == Command::stmt_prepare) {
    return reject(codes::parse_error, Rule::fail_closed,
                  "djproxy: COM_STMT_PREPARE rejected: a prepared statement holds exactly one statement");
  } else if (impl.command == Command::stmt_prepare && !statements.empty() &&
             statements.front().migration_token) {
    return reject(codes::parse_error, Rule::fail_closed,
                  "djproxy: SET @djproxy_migration rejected: it cannot be a prepared statement");
  } else if (impl.command == Command::stmt_prepare && lexing_change(statements)) {
    return reject(codes::not_supported, Rule::fail_closed,
                  "djproxy: COM_STMT_PREPARE rejected: a SET of sql_mode or of the character set cannot be a "
                  "prepared statement; send it as a plain query");
  } else if (real > 1 && !st.multi_statements) {
    return reject(codes::parse_error, Rule::fail_closed,
                  "djproxy: packet rejected: it holds several statements but multi-statements are off");
  } else if (changes_tracking(statements)) {
    return reject(codes::not_supported, Rule::fail_closed,
                  "djproxy: session_track_* may not be changed through djproxy: it follows the session's "
                  "schema and sql_mode through the server's session tracking");
  } else if (lexing_change_before_more(statements)) {
    return reject(codes::not_supported, Rule::fail_closed,
                  "djproxy: packet rejected: a SET of sql_mode or of the character set must be the last "
                  "statement of its packet (the server would read the statements after it differently); "
                  "send it on its own");
  } else {
    return decide(statements, st, cfg);
  }
}

Analysis conclude(StreamingAnalyser::Impl& impl) {
  const bool too_many = impl.too_many;
  std::vector<StatementInfo> statements = impl.finish_statements();
  Analysis out{{}, packet_decision(statements, impl, too_many || impl.too_many), impl.current, {}, {}, false};
  out.statements = std::move(statements);
  if (impl.names) {
    out.prepared_names_after_error = *impl.names;
    std::erase_if(*out.prepared_names_after_error, [&](const PreparedName& p) {
      return std::find(impl.prepared_here.begin(), impl.prepared_here.end(), p.name) != impl.prepared_here.end();
    });
  }
  out.prepared_names_after = std::move(impl.names);
  out.names_token_variable = impl.names_token;
  apply_mode(out.decision, impl.config);
  return out;
}

}  // namespace

Analysis StreamingAnalyser::finish() { return conclude(*impl_); }

Analysis analyse(std::string_view sql, const SessionState& state, const PolicyConfig& config, Command command) {
  // On the stack: a one-shot analysis costs no allocation of its own state.
  StreamingAnalyser::Impl impl(state, config, command, 0, state.current_schema);
  impl.lexer.feed(sql);
  return conclude(impl);
}

namespace {

std::vector<StatementInfo> analyse_nested(std::string_view text, const SessionState& state,
                                          const PolicyConfig& config,
                                          const std::optional<std::string>& current_schema, int nesting) {
  StreamingAnalyser::Impl impl(state, config, Command::stmt_prepare, nesting, current_schema);
  impl.lexer.feed(text);
  auto out = impl.finish_statements();
  std::erase_if(out, [](const StatementInfo& s) { return s.kind == StatementKind::empty; });
  return out;
}

}  // namespace

Decision check_schema(std::string_view schema, SchemaCommand command, const SessionState& state,
                      const PolicyConfig& config) {
  (void)state;
  const char* what = command == SchemaCommand::init_db ? "USE" : command == SchemaCommand::login
                                                                     ? "login schema"
                                                                     : "COM_CHANGE_USER schema";
  Decision d;
  std::string why;
  Rule rule = Rule::none;
  if (!schema_allowed(schema, Access::read, config, why, rule)) {
    d = reject(codes::db_access_denied, rule,
               "djproxy: " + std::string(what) + " `" + std::string(schema) + "` rejected: " + why);
  }
  apply_mode(d, config);
  return d;
}

Decision check_field_list(std::string_view table, const SessionState& state, const PolicyConfig& config) {
  Decision d;
  if (state.current_schema) {
    std::string why;
    Rule rule = Rule::none;
    if (!schema_allowed(*state.current_schema, Access::read, config, why, rule))
      d = reject(codes::table_access_denied, rule,
                 "djproxy: COM_FIELD_LIST `" + *state.current_schema + "`.`" + std::string(table) +
                     "` rejected: " + why);
  }
  apply_mode(d, config);
  return d;
}

}  // namespace djproxy::policy
