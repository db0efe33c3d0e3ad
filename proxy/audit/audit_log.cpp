// The audit log as the sessions see it: which event classes are written, the line
// built on the caller's thread, handed to the writer (audit_writer.hpp) whose
// destination is guarded (audit_sink.hpp); the record format is audit_record.cpp.
#include "proxy/audit/audit_log.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "proxy/audit/audit_file.hpp"
#include "proxy/audit/audit_sink.hpp"
#include "proxy/audit/audit_writer.hpp"

namespace djproxy::audit {

std::unique_ptr<AuditLog> AuditLog::open(const AuditOptions& options) {
  return std::unique_ptr<AuditLog>(new AuditLog(options, nullptr));
}

std::unique_ptr<AuditLog> AuditLog::open(const AuditOptions& options, spdlog::sink_ptr sink) {
  if (sink == nullptr) throw std::invalid_argument("audit log: no sink");
  return std::unique_ptr<AuditLog>(new AuditLog(options, std::move(sink)));
}

AuditLog::AuditLog(const AuditOptions& options, spdlog::sink_ptr sink)
    : statement_max_length_(options.statement_max_length), shared_(std::make_shared<AuditShared>()) {
  mask_ = 1U << static_cast<unsigned>(EventClass::lifecycle);
  for (const auto& name : options.events) {
    const auto c = parse_event_class(name);
    if (!c) throw std::invalid_argument("audit log: unknown event class '" + name + "'");
    mask_ |= 1U << static_cast<unsigned>(*c);
  }
  if (options.all_statements) mask_ |= 1U << static_cast<unsigned>(EventClass::statement);

  std::unique_ptr<GuardedSink> guarded;
  if (sink != nullptr) {
    guarded = std::make_unique<GuardedSink>([sink] { return sink; }, shared_);
  } else if (options.path == "-") {
    guarded = std::make_unique<GuardedSink>([] { return make_stdout_sink(); }, shared_);
  } else {
    guarded = std::make_unique<GuardedSink>(
        std::make_unique<AppendFile>(options.path, options.rotate_size, options.rotate_count), shared_);
  }
  writer_ = std::make_unique<AuditWriter>(options.queue_size, std::move(guarded), shared_);
}

AuditLog::~AuditLog() {
  flush();
  // The writer's destructor writes out the rest of the queue, then joins its thread.
  writer_.reset();
}

void AuditLog::write(const AuditEvent& event) noexcept {
  try {
    writer_->post(format_line(event, statement_max_length_));
  } catch (...) {
    shared_->lost.fetch_add(1, std::memory_order_relaxed);
    if (due(shared_->next_drop_warning)) spdlog::warn("audit log: an event was lost (out of memory)");
  }
}

std::uint64_t AuditLog::dropped() const noexcept { return shared_->dropped(); }

std::uint64_t AuditLog::write_errors() const noexcept { return shared_->write_errors.load(std::memory_order_relaxed); }

std::uint64_t AuditLog::gap_records() const noexcept {
  return shared_->gap_records.load(std::memory_order_relaxed);
}

std::string AuditLog::problem() const {
  if (!shared_->failing.load(std::memory_order_relaxed)) return {};
  std::string why;
  {
    std::lock_guard lock(shared_->problem_mutex);
    why = shared_->problem;
  }
  return fmt::format("cannot write ({}), {} event(s) lost so far", why, shared_->dropped());
}

std::uint64_t AuditLog::written() const noexcept { return shared_->written.load(std::memory_order_relaxed); }

void AuditLog::flush() noexcept {
  try {
    writer_->flush();
  } catch (...) {
    // A lock that cannot be taken: nothing more to do at shutdown.
  }
}

}  // namespace djproxy::audit
