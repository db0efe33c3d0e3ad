#pragma once
// One side of a session: the client leg or the server leg. A TCP socket on the worker's
// event loop, with TLS layered on once the MySQL handshake asks for it. TLS runs through
// OpenSSL over memory buffers: the leg moves the records between them and the socket,
// so OpenSSL never blocks and never touches the descriptor.
#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>

#include "proxy/asio.hpp"
#include "proxy/socket.hpp"
#include "proxy/task.hpp"

namespace djproxy::proxy {

class Leg {
 public:
  explicit Leg(EventLoop& loop);
  // The client leg: an accepted descriptor, non-blocking. The leg owns it from the
  // start, and `fd` is set to -1: closed by the leg whatever happens.
  Leg(EventLoop& loop, int& fd);
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;
  ~Leg();

  Socket& socket() { return socket_; }
  bool tls() const { return tls_ != nullptr; }

  // TLS as the server (client leg) or as the client (server leg). `already_read`: bytes
  // of the client's TLS hello that arrived with its SSLRequest (clients send both at
  // once) and must reach OpenSSL before anything read from the socket.
  Task<ErrorCode> start_tls_server(asio::ssl::context& context, asio::const_buffer already_read);
  Task<ErrorCode> start_tls_client(asio::ssl::context& context, const std::string& host, bool verify_host);

  // Opens the socket, non-blocking, and connects it.
  Task<ErrorCode> connect(const tcp::endpoint& endpoint);

  // The next bytes the leg has, as they arrive; the caller counts what it got with
  // count_read(). A plain socket's read costs no coroutine frame: a frame costs about
  // 300 instructions, and every query reads at least twice (bench/RESULTS.md).
  struct Read {
    Socket::Read plain;
    std::optional<Task<std::tuple<ErrorCode, std::size_t>>> secure;
    bool await_ready() { return secure ? false : plain.await_ready(); }
    void await_suspend(std::coroutine_handle<> h) {
      if (secure)
        secure->await_suspend(h);
      else
        plain.await_suspend(h);
    }
    std::tuple<ErrorCode, std::size_t> await_resume() { return secure ? secure->await_resume() : plain.await_resume(); }
  };
  Read read_some(asio::mutable_buffer buffer) {
    Read r{socket_.read_some(buffer), std::nullopt};
    if (tls_) r.secure.emplace(tls_read_some(buffer));
    return r;
  }
  void count_read(std::size_t n) { bytes_read_ += n; }

  // A plain socket is written inline first: a response or command almost always fits the
  // socket buffer. try_write() writes what the kernel takes now: true when nothing is
  // left to wait for (all written, or an error in `ec`), else write_rest() sends the rest
  // (all of it under TLS). write() does both; the relay's hot paths call the two parts,
  // which spares a coroutine frame when the kernel takes everything.
  bool try_write(std::span<const asio::const_buffer> buffers, ErrorCode& ec, std::size_t& written);
  Task<ErrorCode> write_rest(std::span<const asio::const_buffer> buffers, std::size_t written);
  Task<ErrorCode> write(std::span<const asio::const_buffer> buffers);
  Task<ErrorCode> write(asio::const_buffer buffer);

  void close();

  // Bytes through this leg so far, for the audit log and the metrics.
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct Tls;
  Task<ErrorCode> start_tls(asio::ssl::context& context, bool server, asio::const_buffer already_read,
                            const std::string* host, bool verify_host);
  Task<std::tuple<ErrorCode, std::size_t>> tls_read_some(asio::mutable_buffer buffer);
  Task<ErrorCode> tls_flush();
  Task<ErrorCode> tls_fill();
  Task<ErrorCode> send_all(std::span<const asio::const_buffer> buffers, std::size_t written);

  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  Socket socket_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace djproxy::proxy
