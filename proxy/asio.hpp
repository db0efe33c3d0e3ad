#pragma once
// The Asio names the proxy uses, in one place.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace djproxy::proxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
template <typename T>
using Awaitable = asio::awaitable<T>;
using ErrorCode = boost::system::error_code;
// The coroutine rules of proxy/task.hpp (GCC 12) hold for Asio's coroutines too.
//
// Errors come back as values: a disconnect is ordinary traffic, not an exception.
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}  // namespace djproxy::proxy
