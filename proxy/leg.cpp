#include "proxy/leg.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <boost/asio/ssl/host_name_verification.hpp>

#include <vector>

namespace djproxy::proxy {

Awaitable<ErrorCode> Leg::start_tls_server(asio::ssl::context& context, asio::const_buffer already_read) {
  // Read with the SSLRequest, these bytes were counted; TLS bytes are counted as the
  // plaintext they carry, as when the hello arrives in a read of its own (review round 19).
  bytes_read_ -= std::min<std::uint64_t>(bytes_read_, already_read.size());
  tls_.emplace(socket_, context);
  auto [ec, used] = co_await tls_->async_handshake(asio::ssl::stream_base::server, already_read, use_tuple);
  co_return ec;
}

Awaitable<ErrorCode> Leg::start_tls_client(asio::ssl::context& context, const std::string& host, bool verify_host) {
  tls_.emplace(socket_, context);
  if (verify_host) tls_->set_verify_callback(asio::ssl::host_name_verification(host));
  // SNI only for names; an address in SNI is not allowed.
  ErrorCode parse_error;
  asio::ip::make_address(host, parse_error);
  if (parse_error) SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_tuple);
  co_return ec;
}

// Asio's own connect would leave the socket non-blocking for Asio's operations only:
// an inline write_some that the kernel cannot take at once would then wait in poll(2),
// holding the worker thread and every session on it. It also checks completion with a
// poll(2) of its own; SO_ERROR after the wait says the same.
Awaitable<ErrorCode> Leg::connect(const tcp::endpoint& endpoint) {
  ErrorCode ec;
  if (socket_.is_open()) socket_.close(ec);
  socket_.open(endpoint.protocol(), ec);
  if (ec) co_return ec;
  socket_.non_blocking(true, ec);
  if (ec) co_return ec;
  ErrorCode no_delay_error;  // a latency setting: its failure does not fail the connection
  socket_.set_option(tcp::no_delay(true), no_delay_error);
  if (::connect(socket_.native_handle(), endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0) co_return ec;
  if (errno != EINPROGRESS) co_return ErrorCode(errno, boost::system::system_category());
  auto [wait_error] = co_await socket_.async_wait(tcp::socket::wait_write, use_tuple);
  if (wait_error) co_return wait_error;
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  co_return error == 0 ? ErrorCode() : ErrorCode(error, boost::system::system_category());
}

bool Leg::try_write(std::span<const asio::const_buffer> buffers, ErrorCode& ec, std::size_t& written) {
  written = 0;
  if (tls_) return false;
  std::size_t total = 0;
  for (const auto& b : buffers) total += b.size();
  written = socket_.write_some(buffers, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
  bytes_written_ += written;
  return ec || written == total;
}

Awaitable<ErrorCode> Leg::write_rest(std::span<const asio::const_buffer> buffers, std::size_t written) {
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, buffers, use_tuple);
    bytes_written_ += n;
    co_return ec;
  }
  // Skip what went out, then wait for the socket.
  std::vector<asio::const_buffer> rest;
  for (const auto& b : buffers) {
    if (written >= b.size()) {
      written -= b.size();
      continue;
    }
    rest.push_back(b + written);
    written = 0;
  }
  auto [ec, n] = co_await asio::async_write(socket_, rest, use_tuple);
  bytes_written_ += n;
  co_return ec;
}

Awaitable<ErrorCode> Leg::write(std::span<const asio::const_buffer> buffers) {
  ErrorCode ec;
  std::size_t written = 0;
  if (try_write(buffers, ec, written)) co_return ec;
  co_return co_await write_rest(buffers, written);
}

Awaitable<ErrorCode> Leg::write(asio::const_buffer buffer) {
  co_return co_await write(std::span<const asio::const_buffer>(&buffer, 1));  // `buffer` lives in this frame
}

// No shutdown() first: close() sends the FIN all the same and cancels what waits on
// the socket, and a session closes two sockets per connection.
void Leg::close() {
  ErrorCode ignored;
  socket_.close(ignored);
}

}  // namespace djproxy::proxy
