// The allow-list reader: in production, outside a migration session, a statement
// is forwarded only when this reader models every construct in it. It reads the
// token stream against a grammar of the statement shapes that workers and their
// client libraries send (queries, DML, SET of session variables, SHOW of the
// project's schemas, transactions, prepared statements, DataJoint's bookkeeping
// tables) and refuses everything else. Every qualified name in a position where
// the server reads it as schema.object is a schema reference, whatever aliases
// or CTE names the statement declares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "policy/name_arena.hpp"
#include "policy/token.hpp"
#include "policy/types.hpp"

namespace djproxy::policy {

struct StrictResult {
  // false: a construct the reader does not model; why/code say which.
  bool ok = true;
  std::string why;
  std::uint16_t code = codes::not_supported;
  // A statement the rules must refuse in production (DDL, account and
  // administrative statements): only its head was read.
  bool head_only = false;
  // INSERT or REPLACE into DataJoint's ~lineage: whether every row names a bookkeeping
  // table, so that an upsert or REPLACE can overwrite only bookkeeping rows.
  enum class LineageRows : std::uint8_t { none, bookkeeping, other } lineage_rows = LineageRows::none;
  SchemaUses schemas;
};

// Compact copy of a token: the text of names lives in the reader's arena.
struct StrictToken {
  TokenKind kind = TokenKind::punct;
  char punct = 0;
  char quote = 0;
  bool space_before = false;
  bool after_dot = false;
  bool truncated = false;
  bool reserved = false;  // a reserved word: never a name unless quoted
  char first = 0;         // a string literal's first character
  std::uint32_t off = 0;
  std::uint32_t len = 0;
};

class StrictReader {
 public:
  // Bounds that keep a statement's state small whatever its size.
  static constexpr std::size_t kMaxTokens = 1u << 18;
  static constexpr std::size_t kMaxArena = 1u << 22;
  static constexpr std::size_t kRowChunk = 4096;  // INSERT rows checked and dropped in chunks

  explicit StrictReader(const PolicyConfig& config);
  StrictReader(const StrictReader&) = delete;
  StrictReader& operator=(const StrictReader&) = delete;

  // Starts a statement; the buffers keep their capacity from one statement to the next.
  // current_schema must stay unchanged until finish(). `body`: the statement is a stored
  // program's body, which runs with its definer's privileges (strict_parser.hpp).
  void reset(const std::optional<std::string>& current_schema, bool body = false);
  void on_token(const Token& t);
  // The result stays the reader's until the next reset(): the caller may move from it.
  StrictResult& finish();

 private:
  void push(const Token& t);
  void check_rows(std::size_t end);

  const PolicyConfig& config_;
  const std::optional<std::string>* current_ = nullptr;
  // A statement's tokens and names live in the reader's own buffers first: the
  // usual statement costs no heap allocation and stays in cache.
  boost::container::small_vector<StrictToken, 96> toks_;
  NameArena arena_;
  StrictResult result_;
  bool overflow_ = false;
  bool body_ = false;
  // INSERT ... VALUES rows, checked as they arrive
  int depth_ = 0;
  bool insert_ = false;
  bool show_ = false;  // a SHOW statement: short strings keep their text
  bool saw_select_ = false;
  std::size_t rows_start_ = 0;  // 0: not inside the row list
};

}  // namespace djproxy::policy
