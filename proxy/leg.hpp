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

  // The next bytes the leg has, as they arrive; the caller counts what it got with
  // count_read(). Not a coroutine of its own: a coroutine frame costs about 300
  // instructions, and every query reads at least twice (bench/RESULTS.md).
  Awaitable<std::tuple<ErrorCode, std::size_t>> read_some(asio::mutable_buffer buffer) {
    if (tls_) return tls_->async_read_some(buffer, use_tuple);
    return socket_.async_read_some(buffer, use_tuple);
  }
  void count_read(std::size_t n) { bytes_read_ += n; }

  // A plain socket is written inline first: a response or command almost always fits the
  // socket buffer, and an asynchronous write that completes at once still costs a trip
  // through the scheduler (a posted completion, an extra epoll_wait, a coroutine
  // resumption). try_write() writes what the kernel takes now: true when nothing is left
  // to wait for (all written, or an error in `ec`), else write_rest() sends the rest
  // (all of it under TLS). write() does both; the relay's hot paths call the two parts,
  // which spares a coroutine frame when the kernel takes everything.
  bool try_write(std::span<const asio::const_buffer> buffers, ErrorCode& ec, std::size_t& written);
  Awaitable<ErrorCode> write_rest(std::span<const asio::const_buffer> buffers, std::size_t written);
  Awaitable<ErrorCode> write(std::span<const asio::const_buffer> buffers);
  Awaitable<ErrorCode> write(asio::const_buffer buffer);

  void close();

  // Bytes through this leg so far, for the audit log and the metrics.
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  tcp::socket socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
};

}  // namespace djproxy::proxy
