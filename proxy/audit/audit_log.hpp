#pragma once
// The audit log: one JSON object per line, for DBAs. Field names follow the MariaDB
// server_audit and Percona audit plugins so existing log pipelines and habits carry
// over. Sessions hand events to a bounded queue that one writer thread empties into
// an spdlog sink, and move on: a slow, full or broken destination costs audit lines
// (counted), never traffic.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>


namespace djproxy::audit {

enum class Event : std::uint8_t {
  connect,
  disconnect,
  auth_failed,
  reject,
  schema_change,
  rewrite,
  migration_begin,
  migration_end,
  migration_denied,
  dry_run_violation,
  bookkeeping,
  statement,
  config_reload,
  startup,
  shutdown,
};

// What `audit.events` selects. `lifecycle` (startup, shutdown, config_reload) is
// always written: a DBA reading the log must see where the proxy's record starts,
// stops and changes rules.
enum class EventClass : std::uint8_t {
  connect,
  disconnect,
  auth,
  reject,
  rewrite,
  migration,
  ddl,
  bookkeeping,
  statement,
  lifecycle,
};

std::string_view to_string(Event event) noexcept;
EventClass class_of(Event event) noexcept;
// The names `audit.events` uses: connect|disconnect|auth|reject|rewrite|migration|
// ddl|bookkeeping|statement.
std::optional<EventClass> parse_event_class(std::string_view name) noexcept;

// One audit record. Views must stay valid for the duration of write() only: the line
// is built before write() returns. Empty strings and empty optionals are omitted from
// the line, except `query`, where an empty statement is still a statement.
// A constructor, not an aggregate: GCC 12 -Wextra warns on every designated
// initializer that leaves fields out, and most events leave most fields out.
struct AuditEvent {
  AuditEvent() = default;
  explicit AuditEvent(Event e) : event(e) {}

  Event event = Event::statement;
  std::optional<std::uint64_t> connection_id;         // the proxy's
  std::optional<std::uint64_t> server_connection_id;  // the backend's thread id
  std::string_view host;                              // client address
  std::optional<std::uint16_t> port;                  // client port
  std::string_view user;
  std::string_view database;  // current schema
  std::optional<bool> tls;    // client leg
  std::string_view command;   // e.g. "COM_QUERY"
  std::string_view statement_kind;
  std::optional<std::string_view> query;  // cut to statement_max_length; any bytes
  // The statement's whole length when `query` is only its beginning (a statement
  // streamed through the proxy is never held whole); unset: query's own length.
  std::optional<std::uint64_t> query_length;
  // No `query` nor `digest`: the text may hold a secret (a migration token).
  bool query_withheld = false;
  std::string_view digest;                // statement with literals replaced
  std::string_view decision;              // allow, reject, rewrite, ...
  std::string_view rule;
  std::optional<std::uint32_t> error_code;
  std::string_view message;
  std::string_view token_id;
  std::optional<double> duration_ms;
  std::optional<std::uint64_t> bytes_in;   // client to proxy
  std::optional<std::uint64_t> bytes_out;  // proxy to client
};

struct AuditOptions {
  std::string path = "-";             // a file, or "-" for stdout
  std::uint64_t rotate_size = 0;      // bytes; 0: never rotate
  std::uint32_t rotate_count = 0;     // rotated files kept
  std::vector<std::string> events;    // class names, see parse_event_class
  bool all_statements = false;        // adds the statement class
  std::uint32_t statement_max_length = 0;  // 0: whole statement
  // Lines held in memory while the destination lags; beyond that the oldest go.
  std::size_t queue_size = 8192;
};

// Appends `text` as the inside of a JSON string (no quotes around it): '"', '\\' and
// control bytes escaped (\n, \u0000, ...), a byte that is not part of well-formed
// UTF-8 written as \u00XX. The result never holds a control byte, so it cannot end a
// line or forge one. The audit records use it, and so does the operational log
// (proxy/log_format.hpp) for every message it writes.
void append_escaped(std::string& out, std::string_view text);

// Builds the JSON line for `event` (without the newline). Exposed for tests and for
// `djproxy explain`-style tools that want the exact record format.
std::string format_line(const AuditEvent& event, std::uint32_t statement_max_length);

struct AuditShared;  // counters shared with the writer thread
class AuditWriter;  // the queue and the writer thread

class AuditLog {
 public:
  // Throws std::invalid_argument for an unknown event class name. A destination that
  // cannot be opened is not an error here: it is counted in write_errors() and
  // retried, so a proxy started against a full or read-only disk still serves.
  static std::unique_ptr<AuditLog> open(const AuditOptions& options);
  // Same, with the destination given; tests use it to put a slow or failing sink
  // behind the queue.
  static std::unique_ptr<AuditLog> open(const AuditOptions& options, spdlog::sink_ptr sink);

  ~AuditLog();  // writes out what is queued
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Never blocks on the destination and never throws; from any thread.
  void write(const AuditEvent& event) noexcept;
  bool wants(EventClass event_class) const noexcept { return (mask_ >> static_cast<unsigned>(event_class)) & 1U; }
  bool wants(Event event) const noexcept { return wants(class_of(event)); }

  // Events lost: the queue was full, a line could not be built, or the destination
  // refused it. Each loss is also announced in the log by an audit_gap record.
  std::uint64_t dropped() const noexcept;
  // Lines the destination refused (open, write or flush failed).
  std::uint64_t write_errors() const noexcept;
  // Empty while the destination takes lines; otherwise why it does not (for /readyz:
  // traffic goes on, so the proxy is degraded, not down).
  std::string problem() const;
  // audit_gap records handed to the destination (not counted in written()).
  std::uint64_t gap_records() const noexcept;
  // Lines handed to the destination successfully.
  std::uint64_t written() const noexcept;

  // Waits (bounded) until everything queued so far has been handled, then flushes the
  // destination. For shutdown and tests; sessions never call it.
  void flush() noexcept;

 private:
  AuditLog(const AuditOptions& options, spdlog::sink_ptr sink);

  std::uint32_t mask_ = 0;
  std::uint32_t statement_max_length_ = 0;
  std::shared_ptr<AuditShared> shared_;
  std::unique_ptr<AuditWriter> writer_;
};

}  // namespace djproxy::audit
