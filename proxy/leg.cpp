#include "proxy/leg.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "proxy/event_loop.hpp"

namespace djproxy::proxy {

namespace {

ErrorCode system_error(int e) { return ErrorCode(e, boost::system::system_category()); }

// The first error OpenSSL queued, in Asio's SSL category so that its message is
// OpenSSL's reason ("certificate verify failed"), as the log said before.
ErrorCode ssl_error(int code) {
  if (const unsigned long e = ::ERR_get_error(); e != 0)
    return ErrorCode(static_cast<int>(e), asio::error::get_ssl_category());
  if (code == SSL_ERROR_ZERO_RETURN) return asio::error::eof;
  return asio::ssl::error::stream_truncated;  // the peer closed without a close_notify
}

constexpr std::size_t kTlsChunk = 17 * 1024;  // a TLS record and its overhead

}  // namespace

struct Leg::Tls {
  SSL* ssl = nullptr;
  BIO* in = nullptr;   // records read from the socket, for OpenSSL
  BIO* out = nullptr;  // records OpenSSL wrote, for the socket
  std::vector<char> chunk = std::vector<char>(kTlsChunk);
  ~Tls() {
    if (ssl != nullptr) ::SSL_free(ssl);  // frees both BIOs
  }
};

Leg::Leg(EventLoop& loop) : socket_(loop) {}

Leg::Leg(EventLoop& loop, int& fd) : socket_(loop) {
  const int owned = std::exchange(fd, -1);
  try {
    socket_.adopt(owned);
  } catch (...) {
    ::close(owned);
    throw;
  }
}

Leg::~Leg() = default;

Task<ErrorCode> Leg::start_tls_server(asio::ssl::context& context, asio::const_buffer already_read) {
  // Read with the SSLRequest, these bytes were counted; TLS bytes are counted as the
  // plaintext they carry, as when the hello arrives in a read of its own (review round 19).
  bytes_read_ -= std::min<std::uint64_t>(bytes_read_, already_read.size());
  co_return co_await start_tls(context, true, already_read, nullptr, false);
}

Task<ErrorCode> Leg::start_tls_client(asio::ssl::context& context, const std::string& host, bool verify_host) {
  co_return co_await start_tls(context, false, asio::const_buffer(), &host, verify_host);
}

Task<ErrorCode> Leg::start_tls(asio::ssl::context& context, bool server, asio::const_buffer already_read,
                               const std::string* host, bool verify_host) {
  auto tls = std::make_unique<Tls>();
  tls->ssl = ::SSL_new(context.native_handle());
  tls->in = ::BIO_new(::BIO_s_mem());
  tls->out = ::BIO_new(::BIO_s_mem());
  if (tls->ssl == nullptr || tls->in == nullptr || tls->out == nullptr) {
    // Not yet the SSL's (SSL_set_bio), so SSL_free would not free them.
    if (tls->in != nullptr) ::BIO_free(tls->in);
    if (tls->out != nullptr) ::BIO_free(tls->out);
    co_return ssl_error(SSL_ERROR_SSL);
  }
  ::SSL_set_bio(tls->ssl, tls->in, tls->out);
  if (server) {
    ::SSL_set_accept_state(tls->ssl);
  } else {
    ::SSL_set_connect_state(tls->ssl);
    ErrorCode parse_error;
    asio::ip::make_address(*host, parse_error);
    const bool address = !parse_error;
    // SNI only for names; an address in SNI is not allowed.
    if (!address) ::SSL_set_tlsext_host_name(tls->ssl, host->c_str());
    if (verify_host) {
      // The context asks for the peer's certificate (tls.cpp); this names whom it must be.
      X509_VERIFY_PARAM* param = ::SSL_get0_param(tls->ssl);
      ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int set = address ? ::X509_VERIFY_PARAM_set1_ip_asc(param, host->c_str())
                              : ::X509_VERIFY_PARAM_set1_host(param, host->c_str(), host->size());
      if (set != 1) co_return ssl_error(SSL_ERROR_SSL);
    }
  }
  if (already_read.size() > 0)
    ::BIO_write(tls->in, already_read.data(), static_cast<int>(already_read.size()));
  tls_ = std::move(tls);
  for (;;) {
    ::ERR_clear_error();
    const int r = ::SSL_do_handshake(tls_->ssl);
    const int code = r == 1 ? SSL_ERROR_NONE : ::SSL_get_error(tls_->ssl, r);
    const ErrorCode failure = code == SSL_ERROR_NONE || code == SSL_ERROR_WANT_READ ? ErrorCode() : ssl_error(code);
    // What OpenSSL wrote goes out first, an alert included.
    const ErrorCode flushed = co_await tls_flush();
    if (failure) co_return failure;
    if (flushed) co_return flushed;
    if (code == SSL_ERROR_NONE) co_return ErrorCode();
    const ErrorCode filled = co_await tls_fill();
    if (filled) co_return filled;
  }
}

Task<ErrorCode> Leg::tls_flush() {
  for (;;) {
    const int n = ::BIO_read(tls_->out, tls_->chunk.data(), static_cast<int>(tls_->chunk.size()));
    if (n <= 0) co_return ErrorCode();
    const asio::const_buffer b(tls_->chunk.data(), static_cast<std::size_t>(n));
    const ErrorCode ec = co_await send_all(std::span<const asio::const_buffer>(&b, 1), 0);
    if (ec) co_return ec;
  }
}

// Records from the socket into OpenSSL; the end of the stream tells OpenSSL so.
Task<ErrorCode> Leg::tls_fill() {
  auto [ec, n] = co_await socket_.read_some(asio::buffer(tls_->chunk));
  if (ec == asio::error::eof) {
    BIO_set_mem_eof_return(tls_->in, 0);
    co_return ErrorCode();
  }
  if (ec) co_return ec;
  ::BIO_write(tls_->in, tls_->chunk.data(), static_cast<int>(n));
  co_return ErrorCode();
}

Task<std::tuple<ErrorCode, std::size_t>> Leg::tls_read_some(asio::mutable_buffer buffer) {
  if (buffer.size() == 0) co_return std::tuple<ErrorCode, std::size_t>{ErrorCode(), 0};
  const int size = static_cast<int>(std::min<std::size_t>(buffer.size(), 1u << 30));
  for (;;) {
    if (!socket_.is_open()) co_return std::tuple<ErrorCode, std::size_t>{asio::error::operation_aborted, 0};
    ::ERR_clear_error();
    const int r = ::SSL_read(tls_->ssl, buffer.data(), size);
    const int code = r > 0 ? SSL_ERROR_NONE : ::SSL_get_error(tls_->ssl, r);
    // A key update or a session ticket may want to go out.
    const ErrorCode flushed = co_await tls_flush();
    if (r > 0) co_return std::tuple<ErrorCode, std::size_t>{flushed, static_cast<std::size_t>(r)};
    if (flushed) co_return std::tuple<ErrorCode, std::size_t>{flushed, 0};
    if (code != SSL_ERROR_WANT_READ) co_return std::tuple<ErrorCode, std::size_t>{ssl_error(code), 0};
    const ErrorCode filled = co_await tls_fill();
    if (filled) co_return std::tuple<ErrorCode, std::size_t>{filled, 0};
  }
}

// The socket is opened after the address is known, and watched only once connect(2)
// has started: a socket that is not yet connecting reports a hang-up to epoll.
Task<ErrorCode> Leg::connect(const tcp::endpoint& endpoint) {
  socket_.close();
  tls_.reset();
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) co_return system_error(errno);
  const int one = 1;  // a latency setting: its failure does not fail the connection
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = 0;
  do {
    rc = ::connect(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size()));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) {
    const int e = errno;
    ::close(fd);
    co_return system_error(e);
  }
  try {
    socket_.adopt(fd);
  } catch (const std::system_error& e) {
    ::close(fd);
    co_return ErrorCode(e.code().value(), boost::system::system_category());
  }
  if (rc == 0) co_return ErrorCode();
  const ErrorCode waited = co_await socket_.next_write_edge();
  if (waited) co_return waited;
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(socket_.fd(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  co_return error == 0 ? ErrorCode() : system_error(error);
}

bool Leg::try_write(std::span<const asio::const_buffer> buffers, ErrorCode& ec, std::size_t& written) {
  written = 0;
  if (tls_) return false;
  std::size_t total = 0;
  for (const auto& b : buffers) total += b.size();
  written = socket_.write_some(buffers, ec);
  bytes_written_ += written;
  return ec || written == total;
}

// Everything from `written` on, waiting for the socket whenever it takes nothing.
Task<ErrorCode> Leg::send_all(std::span<const asio::const_buffer> buffers, std::size_t written) {
  std::vector<asio::const_buffer> rest;
  for (const auto& b : buffers) {
    if (written >= b.size()) {
      written -= b.size();
      continue;
    }
    rest.push_back(b + written);
    written = 0;
  }
  std::size_t first = 0;
  while (first < rest.size()) {
    ErrorCode ec;
    std::size_t n = socket_.write_some(std::span<const asio::const_buffer>(rest).subspan(first), ec);
    if (ec) co_return ec;
    if (n == 0) {
      const ErrorCode waited = co_await socket_.next_write_edge();
      if (waited) co_return waited;
      continue;
    }
    if (!tls_) bytes_written_ += n;
    while (first < rest.size() && n >= rest[first].size()) n -= rest[first++].size();
    if (first < rest.size()) rest[first] += n;
  }
  co_return ErrorCode();
}

Task<ErrorCode> Leg::write_rest(std::span<const asio::const_buffer> buffers, std::size_t written) {
  if (!tls_) co_return co_await send_all(buffers, written);
  // Into OpenSSL whole (a memory buffer takes everything), in records of up to 16 KB,
  // then out to the socket.
  for (const auto& b : buffers) {
    std::size_t done = 0;
    while (done < b.size()) {
      const int part = static_cast<int>(std::min<std::size_t>(b.size() - done, 1u << 30));
      ::ERR_clear_error();
      const int r = ::SSL_write(tls_->ssl, static_cast<const char*>(b.data()) + done, part);
      if (r <= 0) co_return ssl_error(::SSL_get_error(tls_->ssl, r));
      done += static_cast<std::size_t>(r);
      bytes_written_ += static_cast<std::size_t>(r);
      if (BIO_ctrl_pending(tls_->out) >= 64 * 1024) {
        const ErrorCode flushed = co_await tls_flush();
        if (flushed) co_return flushed;
      }
    }
  }
  co_return co_await tls_flush();
}

Task<ErrorCode> Leg::write(std::span<const asio::const_buffer> buffers) {
  ErrorCode ec;
  std::size_t written = 0;
  if (try_write(buffers, ec, written)) co_return ec;
  co_return co_await write_rest(buffers, written);
}

Task<ErrorCode> Leg::write(asio::const_buffer buffer) {
  co_return co_await write(std::span<const asio::const_buffer>(&buffer, 1));  // `buffer` lives in this frame
}

// No shutdown() first: close() sends the FIN all the same and ends what waits on the
// socket, and a session closes two sockets per connection.
void Leg::close() { socket_.close(); }

}  // namespace djproxy::proxy
