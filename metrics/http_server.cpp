#include "metrics/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <stdexcept>

#include "gateway/log.hpp"
#include "metrics/exposition.hpp"

namespace sluice::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

using Response = http::response<http::string_body>;

Response text_response(http::status status, std::string_view content_type, std::string body, unsigned version,
                       bool keep_alive) {
  Response res{status, version};
  res.set(http::field::server, "sluice");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response health_response(const HealthVerdict& v, std::string_view ok_text, unsigned version, bool keep_alive) {
  return text_response(v.ok ? http::status::ok : http::status::service_unavailable, "text/plain; charset=utf-8",
                       (v.ok ? std::string(ok_text) : v.reason) + "\n", version, keep_alive);
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));  // Prometheus may add parameters; we have none
}

}  // namespace

class HttpServer::Session {
 public:
  Session(HttpServer& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {}

  asio::awaitable<void> run() {
    beast::flat_buffer buffer(server_.limits_.header_bytes);
    for (unsigned n = 0; n < server_.limits_.max_requests_per_connection; ++n) {
      http::request_parser<http::empty_body> parser;  // a body is an error: scrapes have none
      parser.header_limit(static_cast<std::uint32_t>(server_.limits_.header_bytes));
      stream_.expires_after(server_.limits_.io_timeout);
      auto [ec, bytes] = co_await http::async_read(stream_, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec) break;  // closed, timed out, too big or malformed: nothing useful to answer
      const auto& req = parser.get();
      const bool keep = req.keep_alive() && n + 1 < server_.limits_.max_requests_per_connection;
      Response res = respond(req, keep);
      stream_.expires_after(server_.limits_.io_timeout);
      auto [wec, wbytes] = co_await http::async_write(stream_, res, asio::as_tuple(asio::use_awaitable));
      if (wec || !keep) break;
    }
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

 private:
  Response respond(const http::request<http::empty_body>& req, bool keep) {
    const unsigned v = req.version();
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      Response r = text_response(http::status::method_not_allowed, "text/plain", "only GET\n", v, keep);
      r.set(http::field::allow, "GET, HEAD");
      return r;
    }
    Response r = route(path_of(req.target()), v, keep);
    if (req.method() == http::verb::head) {
      r.content_length(r.body().size());
      r.body().clear();
    }
    return r;
  }

  Response route(std::string_view path, unsigned v, bool keep) {
    const HttpEndpoints& e = server_.endpoints_;
    if (path == "/metrics") return text_response(http::status::ok, kTextContentType, e.metrics(), v, keep);
    if (path == "/healthz") return health_response(e.healthz(), "ok", v, keep);
    if (path == "/readyz") return health_response(e.readyz(), "ready", v, keep);
    return text_response(http::status::not_found, "text/plain", "not found: try /metrics, /healthz, /readyz\n", v,
                         keep);
  }

  HttpServer& server_;
  beast::tcp_stream stream_;
};

HttpServer::HttpServer(const std::string& address, std::uint16_t port, HttpEndpoints endpoints, HttpLimits limits)
    : endpoints_(std::move(endpoints)), limits_(limits), acceptor_(ctx_) {
  const auto fail = [&](const boost::system::error_code& ec) {
    return std::runtime_error("metrics endpoint " + address + ":" + std::to_string(port) + ": " + ec.message());
  };
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) throw fail(ec);
  const tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(64, ec);
  if (ec) throw fail(ec);
  port_ = acceptor_.local_endpoint().port();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  guard_.emplace(ctx_.get_executor());
  asio::co_spawn(ctx_, accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      gateway::log_error("metrics_http_failed").field("what", ex.what());
    }
  });
  thread_ = std::thread([this] {
    for (;;) {
      try {
        ctx_.run();
        return;
      } catch (const std::exception& ex) {
        gateway::log_error("metrics_http_exception").field("what", ex.what());
      }
    }
  });
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(ctx_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  guard_.reset();
  ctx_.stop();
  thread_.join();
}

asio::awaitable<void> HttpServer::accept_loop() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      gateway::log_warn("metrics_accept_failed").field("error", ec.message());
      asio::steady_timer t(ctx_, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (sessions_ >= limits_.max_connections) {
      boost::system::error_code ignored;
      sock.close(ignored);  // over the cap: a scraper retries; we stay bounded
      continue;
    }
    ++sessions_;
    auto session = std::make_shared<Session>(*this, std::move(sock));
    asio::co_spawn(ctx_, session->run(), [this, session](std::exception_ptr e) {
      --sessions_;
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        gateway::log_warn("metrics_http_session_failed").field("what", ex.what());
      }
    });
  }
}

}  // namespace sluice::metrics
