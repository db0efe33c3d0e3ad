// The audit record: one JSON object per line, its text escaped so that no byte of a
// statement can end a line or forge one; the names of events and event classes.
#include <chrono>
#include <ctime>
#include <iterator>

#include <fmt/format.h>

#include "proxy/audit/audit_log.hpp"
#include "proxy/audit/audit_record.hpp"

namespace djproxy::audit {

namespace {

// ------------------------------------------------------------------ JSON text

// Length of the well-formed UTF-8 sequence at `p` (Unicode 15, table 3-7: no
// overlongs, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence(const unsigned char* p, std::size_t n) {
  const unsigned char b0 = p[0];
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < n && p[i] >= lo && p[i] <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (b0 == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void append_u_escape(std::string& out, unsigned value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u00";
  out += kHex[(value >> 4) & 0xF];
  out += kHex[value & 0xF];
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  append_escaped(out, text);
  out += '"';
}

}  // namespace

// Statements are bytes in whatever character set the client uses, and blobs arrive
// as escaped literals, so the text is often not UTF-8. A byte that does not start a
// well-formed sequence is written as the code point of the same value (as latin1
// reads it): the line stays valid JSON and the byte stays visible, where U+FFFD would
// hide it.
void append_escaped(std::string& out, std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            append_u_escape(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) {
      append_u_escape(out, c);
      ++i;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
}

namespace {

// Cuts at `max` bytes, moving back to the start of a UTF-8 sequence so a character
// that fits only in part is left out instead of turning into stray bytes.
std::string_view cut(std::string_view text, std::uint32_t max) {
  if (max == 0 || text.size() <= max) return text;
  std::size_t end = max;
  for (int back = 0; back < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80; ++back) --end;
  const auto* lead = reinterpret_cast<const unsigned char*>(text.data()) + end;
  // Step back only over a well-formed character that the cut actually splits;
  // binary bytes are cut where they are.
  if (end < max && utf8_sequence(lead, text.size() - end) <= max - end) end = max;
  return text.substr(0, end);
}

// RFC 3339, UTC, microseconds: what MariaDB's and Percona's JSON formats parse into.
void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  const auto frac = static_cast<long>(us % 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

class LineBuilder {
 public:
  explicit LineBuilder(std::string& out) : out_(out) { out_ += '{'; }
  void finish() { out_ += '}'; }

  void key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;  // our own names: plain ASCII
    out_ += "\":";
  }
  void text(std::string_view name, std::string_view value) {
    if (value.empty()) return;
    key(name);
    append_json_string(out_, value);
  }
  template <typename Int>
  void number(std::string_view name, const std::optional<Int>& value) {
    if (!value) return;
    key(name);
    fmt::format_to(std::back_inserter(out_), "{}", *value);
  }

  std::string& out() { return out_; }

 private:
  std::string& out_;
  bool first_ = true;
};

// ------------------------------------------------------------------ names

constexpr std::string_view kEventNames[] = {
    "connect",       "disconnect",       "auth_failed",       "reject",      "schema_change",
    "rewrite",       "migration_begin",  "migration_end",     "migration_denied",
    "dry_run_violation", "bookkeeping",  "statement",         "config_reload",
    "startup",       "shutdown",
};

constexpr std::string_view kClassNames[] = {
    "connect", "disconnect", "auth", "reject", "rewrite", "migration", "ddl", "bookkeeping", "statement",
};

}  // namespace

std::string_view to_string(Event event) noexcept {
  const auto i = static_cast<std::size_t>(event);
  return i < std::size(kEventNames) ? kEventNames[i] : std::string_view("unknown");
}

EventClass class_of(Event event) noexcept {
  switch (event) {
    case Event::connect: return EventClass::connect;
    case Event::disconnect: return EventClass::disconnect;
    case Event::auth_failed: return EventClass::auth;
    // A dry-run violation is the rejection production would make.
    case Event::reject:
    case Event::dry_run_violation: return EventClass::reject;
    case Event::schema_change: return EventClass::ddl;
    case Event::rewrite: return EventClass::rewrite;
    case Event::migration_begin:
    case Event::migration_end:
    case Event::migration_denied: return EventClass::migration;
    case Event::bookkeeping: return EventClass::bookkeeping;
    case Event::statement: return EventClass::statement;
    case Event::config_reload:
    case Event::startup:
    case Event::shutdown: return EventClass::lifecycle;
  }
  return EventClass::lifecycle;
}

std::optional<EventClass> parse_event_class(std::string_view name) noexcept {
  for (std::size_t i = 0; i < std::size(kClassNames); ++i) {
    if (kClassNames[i] == name) return static_cast<EventClass>(i);
  }
  return std::nullopt;
}

std::string format_line(const AuditEvent& e, std::uint32_t statement_max_length) {
  std::size_t query_room = e.query ? e.query->size() : 0;
  if (statement_max_length != 0) query_room = std::min<std::size_t>(query_room, statement_max_length);
  std::string line;
  line.reserve(256 + query_room + query_room / 8);
  LineBuilder b(line);
  b.key("timestamp");
  line += '"';
  append_timestamp(line);
  line += '"';
  b.text("event", to_string(e.event));
  b.number("connection_id", e.connection_id);
  b.number("server_connection_id", e.server_connection_id);
  b.text("host", e.host);
  b.number("port", e.port);
  b.text("user", e.user);
  b.text("database", e.database);
  if (e.tls) {
    b.key("tls");
    line += *e.tls ? "true" : "false";
  }
  b.text("command", e.command);
  b.text("statement_kind", e.statement_kind);
  if (e.query) {
    b.key("query");
    append_json_string(line, cut(*e.query, statement_max_length));
    b.number("query_length", std::optional<std::uint64_t>(e.query_length.value_or(e.query->size())));
  } else if (e.query_withheld) {
    b.key("query_withheld");
    line += "true";
    b.number("query_length", e.query_length);
  }
  b.text("digest", cut(e.digest, statement_max_length));
  b.text("decision", e.decision);
  b.text("rule", e.rule);
  b.number("error_code", e.error_code);
  b.text("message", e.message);
  b.text("token_id", e.token_id);
  if (e.duration_ms && std::isfinite(*e.duration_ms)) {
    b.key("duration_ms");
    fmt::format_to(std::back_inserter(line), "{:.3f}", *e.duration_ms);
  }
  b.number("bytes_in", e.bytes_in);
  b.number("bytes_out", e.bytes_out);
  b.finish();
  return line;
}

std::string gap_line(std::uint64_t lost) {
  std::string line;
  LineBuilder b(line);
  b.key("timestamp");
  line += '"';
  append_timestamp(line);
  line += '"';
  b.text("event", "audit_gap");
  b.number("events_lost", std::optional<std::uint64_t>(lost));
  b.text("message", "audit events were lost here (destination failed or did not keep up)");
  b.finish();
  return line;
}

}  // namespace djproxy::audit
