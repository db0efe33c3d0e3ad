// A stored program's body, read by the allow-list reader as the statement it is.
//
// CREATE PROCEDURE / FUNCTION / TRIGGER / EVENT / VIEW (and ALTER EVENT ... DO, ALTER
// VIEW ... AS) store a statement that every later CALL, row change, schedule or read of
// the view runs without djproxy reading it again, in production too, with the definer's
// privileges unless SQL SECURITY INVOKER. So where a prefix confines, the body must be a statement
// production would forward: the definition's head is read by a grammar of MariaDB's own
// (sql/sql_yacc.yy: sp_c_chistic, sp_tail, trigger_tail, event_tail) and the body goes to
// a StrictReader of its own, with unqualified names in the program's schema. A function's
// `RETURN expr` is read as `SELECT expr`, a trigger's `SET NEW.a = x, NEW.b = y` as
// `SELECT x, y`. Found by review: bodies such as DROP DATABASE other, SHOW TABLES FROM
// other or SET GLOBAL were created in development mode and ran from production.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "policy/strict_reader.hpp"
#include "policy/token.hpp"
#include "policy/types.hpp"

namespace djproxy::policy {

class RoutineBody {
 public:
  explicit RoutineBody(const PolicyConfig& config) : config_(config) {}

  // current_schema must stay unchanged until finish().
  void reset(const std::optional<std::string>& current_schema);
  void on_token(const Token& t);
  // Whether on_token can still change the result: false once the head shows no stored
  // program (almost every statement), so that the caller skips the call.
  bool listening() const noexcept { return stage_ != Stage::inactive && stage_ != Stage::refused; }
  // nullopt: the statement defines no stored program body. Otherwise the body's
  // reading (ok = false with why: the definition or its body is not read).
  std::optional<StrictResult> finish();

 private:
  enum class Kind : std::uint8_t { none, procedure, function, trigger, event, view };
  enum class Stage : std::uint8_t {
    start, inactive, head, ident, name, params, characteristics, returns, type, type_args, type_after,
    trigger_head, trigger_order, event_head, view_head, view_tail, body, refused,
  };

  void refuse(std::string why);
  void begin_body();
  void feed(const Token& t);
  void characteristic(const Token& t);
  void set_item(const Token& t);

  const PolicyConfig& config_;
  const std::optional<std::string>* current_ = nullptr;
  std::optional<std::string> schema_;  // the program's: unqualified names in the body
  Stage stage_ = Stage::start;
  Kind kind_ = Kind::none;
  bool alter_ = false;
  int depth_ = 0;
  int parts_ = 0;           // name parts read, while reading the program's name
  std::string first_part_;  // the name's first part (its schema if a second follows)
  int skip_ = 0;            // the head's DEFINER = user, a trigger's FOLLOWS name: tokens to pass
  bool dot_ = false;        // a '.' after the name's first part
  bool each_ = false;       // a trigger's FOR EACH read, ROW due
  // characteristics: the words still due (READS SQL DATA, SQL SECURITY DEFINER ...)
  std::string_view want_[2];
  int wants_ = 0;
  bool after_comment_ = false;
  bool security_ = false;   // SQL SECURITY read: DEFINER next is its value
  bool held_with_ = false;  // a view body's WITH at depth 0, not yet passed on
  int tail_ = 0;            // a view's WITH CHECK OPTION: the words read (see Stage::view_tail)
  int charset_ = 0;         // a type's CHARSET / COLLATE: 1 its name due, 2 CHARACTER read, SET due
  bool body_first_ = true;
  // A trigger's SET NEW.a = x, ...: 0 item start, 1 NEW read, 2 '.', 3 column, 4 ':' read, 5 expression.
  int set_ = -1;
  std::string refusal_;
  std::optional<StrictReader> body_;
};

}  // namespace djproxy::policy
