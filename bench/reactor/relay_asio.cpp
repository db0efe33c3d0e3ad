// Reactor prototype for issue 19, the Asio twin of relay_epoll.cpp: the same TCP relay
// (one thread per io_context, a listener per thread, 64 KiB per direction), moving bytes
// the way djproxy's legs do (proxy/leg.hpp): Asio's async_read_some, which tries a read
// before it waits; a write tried inline on the non-blocking socket; async_write only for
// what the kernel did not take. The difference between the two relays' CPU per query is
// what a reactor of djproxy's own could save, before any of djproxy's own work.
//
// Usage: djproxy_relay_asio LISTEN_PORT BACKEND_PORT THREADS   (127.0.0.1 on both)
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "relay_common.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using relay::kBuffer;

// One direction; the first direction to end closes both sockets.
asio::awaitable<void> relay(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
  auto buffer = std::make_unique<char[]>(kBuffer);
  for (;;) {
    auto [read_error, n] = co_await from->async_read_some(asio::buffer(buffer.get(), kBuffer), use_tuple);
    if (read_error) break;
    boost::system::error_code ec;
    const std::size_t written = to->write_some(asio::buffer(buffer.get(), n), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) break;
    if (written < n) {
      auto [write_error, rest] =
          co_await asio::async_write(*to, asio::buffer(buffer.get() + written, n - written), use_tuple);
      if (write_error) break;
    }
  }
  boost::system::error_code ignored;
  from->close(ignored);
  to->close(ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, int backend_port) {
  const tcp::endpoint backend(asio::ip::address_v4::loopback(), static_cast<unsigned short>(backend_port));
  for (;;) {
    auto [ec, client] = co_await acceptor.async_accept(use_tuple);
    if (ec) continue;
    auto c = std::make_shared<tcp::socket>(std::move(client));
    auto s = std::make_shared<tcp::socket>(acceptor.get_executor());
    boost::system::error_code connect_error;
    s->connect(backend, connect_error);  // loopback: at once
    if (connect_error) continue;
    for (auto* socket : {c.get(), s.get()}) {
      socket->set_option(tcp::no_delay(true));
      socket->non_blocking(true);
    }
    asio::co_spawn(acceptor.get_executor(), relay(c, s), asio::detached);
    asio::co_spawn(acceptor.get_executor(), relay(s, c), asio::detached);
  }
}

void run(int listen_port, int backend_port) {
  asio::io_context io(1);  // as djproxy's workers
  tcp::acceptor acceptor(io, tcp::v4(), relay::open_listener(listen_port));
  asio::co_spawn(io, accept_loop(acceptor, backend_port), asio::detached);
  io.run();
}

}  // namespace

int main(int argc, char** argv) { return relay::main(argc, argv, run); }
