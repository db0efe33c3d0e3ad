// Entry points of the policy engine. Everything is pure: no I/O, no globals.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "policy/types.hpp"

namespace djproxy::policy {

enum class Command : std::uint8_t { query, stmt_prepare };

// Analyses one COM_QUERY / COM_STMT_PREPARE packet fed in pieces of any size.
// Keeps bounded state whatever the statement's size; the result does not
// depend on how the text was cut.
class StreamingAnalyser {
 public:
  StreamingAnalyser(const SessionState& state, const PolicyConfig& config, Command command = Command::query);
  ~StreamingAnalyser();
  StreamingAnalyser(const StreamingAnalyser&) = delete;
  StreamingAnalyser& operator=(const StreamingAnalyser&) = delete;

  void feed(std::string_view chunk);
  Analysis finish();

  struct Impl;  // opaque; public only so that analyser.cpp's helpers (the nested analysis) can use it

 private:
  std::unique_ptr<Impl> impl_;
};

// One-shot analysis: a thin wrapper over StreamingAnalyser.
Analysis analyse(std::string_view sql, const SessionState& state, const PolicyConfig& config,
                 Command command = Command::query);

enum class SchemaCommand : std::uint8_t { init_db, login, change_user };

// COM_INIT_DB, the schema named at login, COM_CHANGE_USER's schema.
Decision check_schema(std::string_view schema, SchemaCommand command, const SessionState& state,
                      const PolicyConfig& config);

// COM_FIELD_LIST of a table in the session's current schema.
Decision check_field_list(std::string_view table, const SessionState& state, const PolicyConfig& config);

}  // namespace djproxy::policy
