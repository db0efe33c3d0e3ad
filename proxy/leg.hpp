#pragma once
// One side of a session: the client leg or the server leg. A TCP socket, with TLS
// layered on once the MySQL handshake asks for it.
#include <optional>
#include <span>

#include "proxy/asio.hpp"

namespace djproxy::proxy {

class Leg {
 public:
  // An open socket (the client leg) is made non-blocking here, a closed one (the
  // server leg) by connect().
  explicit Leg(tcp::socket socket) : socket_(std::move(socket)) {
    ErrorCode ignored;
    if (socket_.is_open()) socket_.non_blocking(true, ignored);  // writes are tried inline first, see write()
  }
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;

  tcp::socket& socket() { return socket_; }
  bool tls() const { return tls_.has_value(); }
  SSL* native_tls() { return tls_ ? tls_->native_handle() : nullptr; }

  // TLS as the server (client leg) or as the client (server leg). `already_read`: bytes
  // of the client's TLS hello that arrived with its SSLRequest (clients send both at
  // once) and must reach OpenSSL before anything read from the socket.
  Awaitable<ErrorCode> start_tls_server(asio::ssl::context& context, asio::const_buffer already_read);
  Awaitable<ErrorCode> start_tls_client(asio::ssl::context& context, const std::string& host, bool verify_host);

  // Opens the socket, non-blocking for the inline writes, and connects it.
  Awaitable<ErrorCode> connect(const tcp::endpoint& endpoint);
  Awaitable<std::tuple<ErrorCode, std::size_t>> read_some(asio::mutable_buffer buffer);
  Awaitable<ErrorCode> write(std::span<const asio::const_buffer> buffers);
  Awaitable<ErrorCode> write(asio::const_buffer buffer);

  void close();

  // Bytes through this leg so far, for the audit log and the metrics.
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  // Writes what the kernel takes now; returns the bytes written (0 on would-block).
  std::size_t write_now(std::span<const asio::const_buffer> buffers, ErrorCode& ec);

  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  tcp::socket socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
};

}  // namespace djproxy::proxy
