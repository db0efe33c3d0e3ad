#include "proxy/admin/admin_server.hpp"

#include <pthread.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "proxy/admin/metrics.hpp"
#include "proxy/asio.hpp"

namespace djproxy::admin {

namespace {

namespace asio = proxy::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using proxy::Awaitable;
using proxy::ErrorCode;
using proxy::tcp;
using proxy::use_tuple;
using Clock = std::chrono::steady_clock;
using Response = http::response<http::string_body>;

Response make_response(http::status status, unsigned version, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8") {
  Response res{status, version};
  res.set(http::field::server, "djproxy");
  res.set(http::field::content_type, content_type);
  // Probes and scrapes must see the state now, never a cache's copy.
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool is_oversized(const ErrorCode& ec) {
  return ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::buffer_overflow;
}

}  // namespace

struct AdminServer::Impl {
  Impl(AdminOptions o, const Metrics& m, ReadinessCheck r)
      : options(std::move(o)), metrics(m), readiness(std::move(r)) {}

  Awaitable<void> accept_loop();
  Awaitable<void> serve(tcp::socket socket);
  Awaitable<Response> handle(const http::request<http::string_body>& req);
  Awaitable<std::string> backend_problem();
  Awaitable<void> linger(beast::tcp_stream& stream);

  const AdminOptions options;
  const Metrics& metrics;
  const ReadinessCheck readiness;

  // Admin thread only. Declared before the io_context: abandoned coroutines still
  // touch them while the io_context is destroyed.
  std::size_t connections = 0;
  bool probed = false;
  Clock::time_point probed_at{};
  std::string probe_problem;  // empty: the backend accepted

  // Pointers so stop() can destroy them: that is what closes the connections whose
  // coroutines it abandons.
  std::unique_ptr<asio::io_context> context = std::make_unique<asio::io_context>(1);
  std::unique_ptr<tcp::acceptor> acceptor = std::make_unique<tcp::acceptor>(*context);
  std::thread thread;
  std::once_flag stopped;
};

AdminServer::AdminServer(AdminOptions options, const Metrics& metrics, ReadinessCheck readiness)
    : impl_(std::make_unique<Impl>(std::move(options), metrics, std::move(readiness))) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  Impl& s = *impl_;
  if (s.context == nullptr) throw std::logic_error("admin server: start after stop");
  tcp::resolver resolver(*s.context);
  const auto results = resolver.resolve(s.options.host, std::to_string(s.options.port),
                                        tcp::resolver::passive | tcp::resolver::numeric_service);
  const tcp::endpoint endpoint = results.begin()->endpoint();
  s.acceptor->open(endpoint.protocol());
  s.acceptor->set_option(tcp::acceptor::reuse_address(true));
  s.acceptor->bind(endpoint);
  s.acceptor->listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(*s.context, s.accept_loop(), asio::detached);
  s.thread = std::thread([&s] {
    pthread_setname_np(pthread_self(), "djproxy-admin");
    s.context->run();
  });
}

void AdminServer::stop() {
  std::call_once(impl_->stopped, [this] {
    // Abandons what is in flight: destroying the io_context destroys the suspended
    // coroutines, and with them their sockets.
    impl_->context->stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->acceptor.reset();
    impl_->context.reset();
  });
}

std::uint16_t AdminServer::port() const {
  if (impl_->acceptor == nullptr) return 0;
  ErrorCode ec;
  const auto endpoint = impl_->acceptor->local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

Awaitable<void> AdminServer::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      spdlog::warn("admin: accept failed: {}", ec.message());
      asio::steady_timer pause(*context, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    if (connections >= options.max_connections) {
      ErrorCode ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(*context, serve(std::move(socket)), asio::detached);
  }
}

Awaitable<void> AdminServer::Impl::serve(tcp::socket socket) {
  ++connections;
  struct Release {
    std::size_t& n;
    ~Release() { --n; }
  } release{connections};

  beast::tcp_stream stream(std::move(socket));
  // The buffer's cap bounds what one request can make us hold, whatever the parser
  // limits say.
  beast::flat_buffer buffer(options.max_request_bytes);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_request_bytes));
    parser.body_limit(options.max_request_bytes);
    stream.expires_after(options.read_timeout);
    const auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)read_bytes;
    if (read_error) {
      const bool oversized = is_oversized(read_error);
      const bool malformed = read_error.category() == ErrorCode(http::error::bad_target).category() &&
                             read_error != http::error::end_of_stream && read_error != http::error::partial_message;
      if (oversized || malformed) {
        const auto status = read_error == http::error::body_limit ? http::status::payload_too_large
                            : oversized                           ? http::status::request_header_fields_too_large
                                                                  : http::status::bad_request;
        auto res = make_response(status, 11, std::string(http::obsolete_reason(status)) + "\n");
        res.keep_alive(false);
        stream.expires_after(options.read_timeout);
        const auto [write_error, written] = co_await http::async_write(stream, res, use_tuple);
        (void)written;
        if (!write_error) co_await linger(stream);
      }
      break;
    }
    const auto& req = parser.get();
    auto res = co_await handle(req);
    res.keep_alive(req.keep_alive());
    stream.expires_after(options.read_timeout);
    const auto [write_error, written] = co_await http::async_write(stream, res, use_tuple);
    (void)written;
    if (write_error || !res.keep_alive()) break;
  }
  ErrorCode ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// After an error answer the client may still be sending the request we refused;
// closing with unread data would reset the connection and could destroy our answer
// in flight. Read and discard a little, briefly, the way HTTP servers do.
Awaitable<void> AdminServer::Impl::linger(beast::tcp_stream& stream) {
  ErrorCode ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(1));
  std::array<char, 4096> sink;
  std::size_t discarded = 0;
  while (discarded < 16 * options.max_request_bytes) {
    const auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) break;
    discarded += n;
  }
}

Awaitable<Response> AdminServer::Impl::handle(const http::request<http::string_body>& req) {
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  const unsigned version = req.version();
  const bool known = target == "/healthz" || target == "/readyz" || target == "/metrics";
  if (!known) co_return make_response(http::status::not_found, version, "not found\n");
  const bool head = req.method() == http::verb::head;
  if (req.method() != http::verb::get && !head) {
    auto res = make_response(http::status::method_not_allowed, version, "method not allowed\n");
    res.set(http::field::allow, "GET, HEAD");
    co_return res;
  }

  Response res;
  if (target == "/healthz") {
    // Answering at all is the proof: this thread runs, the process serves.
    res = make_response(http::status::ok, version, "ok\n");
  } else if (target == "/readyz") {
    Readiness r{true, {}, {}};
    if (readiness) {
      try {
        r = readiness();
      } catch (const std::exception& e) {
        r = {false, std::string("readiness check failed: ") + e.what(), {}};
      }
    }
    if (r.ready) {
      const std::string problem = co_await backend_problem();
      if (!problem.empty()) r = {false, problem, {}};
    }
    res = r.ready ? make_response(http::status::ok, version, r.note.empty() ? "ready\n" : "ready (" + r.note + ")\n")
                  : make_response(http::status::service_unavailable, version, "not ready: " + r.reason + "\n");
  } else {
    // The same probe, and cache, as /readyz: the gauge and the probe never disagree.
    const bool backend_up = (co_await backend_problem()).empty();
    res = make_response(http::status::ok, version, metrics.render_prometheus(backend_up),
                        "text/plain; version=0.0.4; charset=utf-8");
  }
  if (head) {
    // Content-Length stays that of the GET answer, as HEAD requires.
    res.body().clear();
  }
  co_return res;
}

Awaitable<std::string> AdminServer::Impl::backend_problem() {
  if (options.backend_host.empty()) co_return std::string();
  if (probed && Clock::now() - probed_at < options.backend_cache) co_return probe_problem;

  // The timer's handler may run after this coroutine is gone (it was already queued
  // when the connect finished), so what it touches lives in shared state.
  struct Probe {
    explicit Probe(asio::io_context& c) : resolver(c), socket(c), timer(c) {}
    tcp::resolver resolver;
    tcp::socket socket;
    asio::steady_timer timer;
    bool timed_out = false;
  };
  auto probe = std::make_shared<Probe>(*context);
  probe->timer.expires_after(options.backend_timeout);
  probe->timer.async_wait([probe](const ErrorCode& ec) {
    if (ec) return;
    probe->timed_out = true;
    probe->resolver.cancel();
    ErrorCode ignored;
    probe->socket.close(ignored);
  });

  const std::string where = fmt::format("backend {}:{}", options.backend_host, options.backend_port);
  std::string problem;
  const std::string port = std::to_string(options.backend_port);  // named: GCC 12, see proxy/task.hpp
  const auto [resolve_error, endpoints] = co_await probe->resolver.async_resolve(options.backend_host, port, use_tuple);
  if (resolve_error) {
    problem = probe->timed_out ? where + ": name resolution timed out" : where + ": " + resolve_error.message();
  } else {
    const auto [connect_error, endpoint] = co_await asio::async_connect(probe->socket, endpoints, use_tuple);
    (void)endpoint;
    if (connect_error) {
      problem = probe->timed_out ? fmt::format("{}: no answer within {} ms", where, options.backend_timeout.count())
                                 : where + ": " + connect_error.message();
    }
  }
  probe->timer.cancel();
  ErrorCode ignored;
  probe->socket.close(ignored);

  probed = true;
  probed_at = Clock::now();
  probe_problem = problem;
  co_return problem;
}

}  // namespace djproxy::admin
