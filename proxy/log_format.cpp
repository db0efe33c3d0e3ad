#include "proxy/log_format.hpp"

#include <string>

#include "proxy/audit/audit_log.hpp"

namespace djproxy {
namespace {

class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    thread_local std::string escaped;
    escaped.clear();
    audit::append_escaped(escaped, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }

  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessage>(); }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<EscapedMessage>('*').set_pattern(kLogPattern);
  return formatter;
}

void use_escaped_log_format(spdlog::logger& logger) { logger.set_formatter(make_log_formatter()); }

}  // namespace djproxy
