#include "proxy/admin/admin_server.hpp"

#include <atomic>
#include <optional>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "proxy/admin/metrics.hpp"
#include "proxy/asio.hpp"

namespace djproxy::admin {
namespace {

namespace asio = proxy::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using proxy::ErrorCode;
using proxy::tcp;

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string content_length;
  bool keep_alive = false;
};

const asio::ip::address kLoopback = asio::ip::make_address("127.0.0.1");

class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(io_) { socket_.connect({kLoopback, port}); }

  Reply request(http::verb verb, std::string target, bool keep_alive = true) {
    http::request<http::empty_body> req{verb, target, 11};
    req.set(http::field::host, "localhost");
    req.keep_alive(keep_alive);
    http::write(socket_, req);
    return read(verb == http::verb::head);
  }

  Reply raw(const std::string& bytes) {
    asio::write(socket_, asio::buffer(bytes));
    return read(false);
  }

  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

  // What the server does with the connection next: EOF when it hangs up.
  ErrorCode wait_for_close() {
    char byte;
    ErrorCode ec;
    socket_.read_some(asio::buffer(&byte, 1), ec);
    return ec;
  }

 private:
  Reply read(bool head) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    http::read(socket_, buffer_, parser);
    const auto& res = parser.get();
    return {res.result_int(), res.body(), std::string(res[http::field::content_type]),
            std::string(res[http::field::content_length]), res.keep_alive()};
  }

  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

Reply get(std::uint16_t port, std::string target) { return Client(port).request(http::verb::get, std::move(target)); }

// A backend that accepts TCP connections: a listening socket; the kernel completes
// the handshake from the backlog, which is all the readiness check asks.
class ListeningBackend {
 public:
  ListeningBackend() : acceptor_(io_, {kLoopback, 0}) {}
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void close() { acceptor_.close(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
};

// A port nothing listens on: bound once to learn a free one, then released.
std::uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor a(io, {kLoopback, 0});
  return a.local_endpoint().port();
}

AdminOptions options_for(std::uint16_t backend_port) {
  AdminOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.backend_host = "127.0.0.1";
  o.backend_port = backend_port;
  o.backend_cache = std::chrono::milliseconds(0);
  return o;
}

TEST(AdminServer, HealthzAnswersOk) {
  Metrics metrics;
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  ASSERT_NE(server.port(), 0);
  const Reply r = get(server.port(), "/healthz");
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.body, "ok\n");
}

TEST(AdminServer, ReadyWhenBackendAcceptsAndSettingsLoaded) {
  Metrics metrics;
  ListeningBackend backend;
  AdminServer server(options_for(backend.port()), metrics, [] { return Readiness{true, {}, {}}; });
  server.start();
  const Reply r = get(server.port(), "/readyz");
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.body, "ready\n");
}

TEST(AdminServer, NotReadyWhenBackendRefuses) {
  Metrics metrics;
  const std::uint16_t port = closed_port();
  AdminServer server(options_for(port), metrics, [] { return Readiness{true, {}, {}}; });
  server.start();
  const Reply r = get(server.port(), "/readyz");
  EXPECT_EQ(r.status, 503U);
  EXPECT_NE(r.body.find("backend 127.0.0.1:" + std::to_string(port)), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("refused"), std::string::npos) << r.body;
  // Liveness is a different question.
  EXPECT_EQ(get(server.port(), "/healthz").status, 200U);
}

TEST(AdminServer, NotReadyWhileTheCallbackSaysSo) {
  Metrics metrics;
  ListeningBackend backend;
  std::atomic<bool> loaded{false};
  AdminServer server(options_for(backend.port()), metrics, [&loaded] {
    return loaded ? Readiness{true, {}, {}} : Readiness{false, "settings not loaded", {}};
  });
  server.start();
  const Reply before = get(server.port(), "/readyz");
  EXPECT_EQ(before.status, 503U);
  EXPECT_NE(before.body.find("settings not loaded"), std::string::npos) << before.body;
  loaded = true;
  EXPECT_EQ(get(server.port(), "/readyz").status, 200U);
}

TEST(AdminServer, ThrowingCallbackIsNotReady) {
  Metrics metrics;
  ListeningBackend backend;
  AdminServer server(options_for(backend.port()), metrics,
                     []() -> Readiness { throw std::runtime_error("boom"); });
  server.start();
  const Reply r = get(server.port(), "/readyz");
  EXPECT_EQ(r.status, 503U);
  EXPECT_NE(r.body.find("boom"), std::string::npos);
}

TEST(AdminServer, BackendStateIsCached) {
  Metrics metrics;
  ListeningBackend backend;
  AdminOptions o = options_for(backend.port());
  o.backend_cache = std::chrono::hours(1);
  AdminServer server(o, metrics);
  server.start();
  EXPECT_EQ(get(server.port(), "/readyz").status, 200U);
  backend.close();
  EXPECT_EQ(get(server.port(), "/readyz").status, 200U);  // within the cache period
}

TEST(AdminServer, UnreachableBackendIsNotReady) {
  Metrics metrics;
  AdminOptions o = options_for(9);
  o.backend_host = "192.0.2.1";  // TEST-NET-1: nothing answers there
  o.backend_timeout = std::chrono::milliseconds(200);
  AdminServer server(o, metrics);
  server.start();
  EXPECT_EQ(get(server.port(), "/readyz").status, 503U);
}

TEST(AdminServer, MetricsInPrometheusTextFormat) {
  Metrics metrics;
  metrics.connection_opened();
  metrics.command(0x03);
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  const Reply r = get(server.port(), "/metrics");
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0U) << r.content_type;
  EXPECT_NE(r.body.find("\ndjproxy_connections_total 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("\ndjproxy_commands_total{command=\"COM_QUERY\"} 1\n"), std::string::npos);
  // Nothing listens on the backend port: the scrape says the backend is down.
  EXPECT_EQ(r.body, metrics.render_prometheus(false));
}

// djproxy_backend_up follows the probe /readyz uses, both ways.
TEST(AdminServer, BackendUpGaugeAgreesWithReadyz) {
  Metrics metrics;
  ListeningBackend backend;
  AdminServer server(options_for(backend.port()), metrics, [] { return Readiness{true, {}, {}}; });
  server.start();
  EXPECT_EQ(get(server.port(), "/readyz").status, 200U);
  EXPECT_NE(get(server.port(), "/metrics").body.find("\ndjproxy_backend_up 1\n"), std::string::npos);
  backend.close();
  EXPECT_EQ(get(server.port(), "/readyz").status, 503U);
  const Reply r = get(server.port(), "/metrics");
  EXPECT_NE(r.body.find("# TYPE djproxy_backend_up gauge\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\ndjproxy_backend_up 0\n"), std::string::npos) << r.body;
}

TEST(AdminServer, UnknownPathIsNotFound) {
  Metrics metrics;
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  EXPECT_EQ(get(server.port(), "/").status, 404U);
  EXPECT_EQ(get(server.port(), "/metricsx").status, 404U);
  EXPECT_EQ(get(server.port(), "/healthz/x").status, 404U);
  EXPECT_EQ(get(server.port(), "/healthz?verbose=1").status, 200U);
  EXPECT_EQ(Client(server.port()).request(http::verb::post, "/metrics").status, 405U);
}

TEST(AdminServer, HeadHasTheLengthButNoBody) {
  Metrics metrics;
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  const Reply r = Client(server.port()).request(http::verb::head, "/healthz");
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.content_length, "3");
  EXPECT_TRUE(r.body.empty());
}

TEST(AdminServer, KeepAliveServesSeveralRequests) {
  Metrics metrics;
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  Client c(server.port());
  for (int i = 0; i < 3; ++i) {
    const Reply r = c.request(http::verb::get, "/healthz");
    EXPECT_EQ(r.status, 200U);
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_EQ(c.request(http::verb::get, "/metrics").status, 200U);
  const Reply last = c.request(http::verb::get, "/healthz", false);
  EXPECT_FALSE(last.keep_alive);
  EXPECT_EQ(c.wait_for_close(), asio::error::eof);
}

TEST(AdminServer, OversizedHeaderIsRefused) {
  Metrics metrics;
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  Client c(server.port());
  const Reply r = c.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 431U);
  EXPECT_FALSE(r.keep_alive);
}

TEST(AdminServer, OversizedBodyIsRefused) {
  Metrics metrics;
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  Client c(server.port());
  const Reply r = c.raw("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
  EXPECT_EQ(r.status, 413U);
}

TEST(AdminServer, MalformedRequestIsBadRequest) {
  Metrics metrics;
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  Client c(server.port());
  EXPECT_EQ(c.raw("GARBAGE\r\n\r\n").status, 400U);
}

TEST(AdminServer, SlowClientIsCutOff) {
  Metrics metrics;
  AdminOptions o = options_for(closed_port());
  o.read_timeout = std::chrono::milliseconds(200);
  AdminServer server(o, metrics);
  server.start();
  Client slow(server.port());
  slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // and never the rest
  const ErrorCode ec = slow.wait_for_close();
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  // Meanwhile others were served, and still are.
  EXPECT_EQ(get(server.port(), "/healthz").status, 200U);
}

TEST(AdminServer, StopIsIdempotentAndClosesThePort) {
  Metrics metrics;
  AdminServer server(options_for(closed_port()), metrics);
  server.start();
  const auto port = server.port();
  EXPECT_EQ(get(port, "/healthz").status, 200U);
  server.stop();
  server.stop();
  asio::io_context io;
  tcp::socket s(io);
  ErrorCode ec;
  s.connect({kLoopback, port}, ec);
  EXPECT_TRUE(ec) << "still accepting after stop";
}

TEST(AdminServer, TakenPortFailsAtStart) {
  Metrics metrics;
  ListeningBackend taken;
  AdminOptions o = options_for(closed_port());
  o.port = taken.port();
  AdminServer server(o, metrics);
  EXPECT_THROW(server.start(), boost::system::system_error);
}

}  // namespace
}  // namespace djproxy::admin
