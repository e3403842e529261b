#include "load-tests/loadgen/smtp_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>

namespace sluice::loadgen {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::timeout: return "timeout";
    case Outcome::closed: return "closed";
    case Outcome::tls_failed: return "tls_failed";
    case Outcome::bad_reply: return "bad_reply";
  }
  return "?";
}

bool Reply::has_keyword(std::string_view keyword) const {
  // Lines look like "250-KEYWORD params"; the first line is the greeting.
  std::string_view rest = lines;
  bool first = true;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (first || line.size() < 4 + keyword.size()) {
      first = false;
      continue;
    }
    std::string_view word = line.substr(4, keyword.size());
    bool same = true;
    for (std::size_t i = 0; i < keyword.size() && same; ++i)
      same = std::toupper(static_cast<unsigned char>(word[i])) == keyword[i];
    if (same && (line.size() == 4 + keyword.size() || line[4 + keyword.size()] == ' ')) return true;
  }
  return false;
}

SmtpStream::SmtpStream(const asio::any_io_executor& ex, clock::duration step_timeout)
    : socket_(ex), timer_(ex), step_timeout_(step_timeout) {}

Outcome SmtpStream::failure(const boost::system::error_code& ec) const {
  if (timed_out_) return Outcome::timeout;
  return ec.category() == asio::error::get_ssl_category() ? Outcome::tls_failed : Outcome::closed;
}

asio::awaitable<void> SmtpStream::watchdog() {
  for (;;) {
    timer_.expires_at(deadline_);
    auto [ec] = co_await timer_.async_wait(kAsTuple);
    if (ec == asio::error::operation_aborted) co_return;  // the session ended first
    if (clock::now() >= deadline_) {
      timed_out_ = true;
      close();
      co_return;
    }
  }
}

asio::awaitable<void> SmtpStream::wait_closed() {
  char byte[64];
  auto buf = asio::buffer(byte);
  auto result = co_await socket_.async_read_some(buf, kAsTuple);
  (void)result;  // whatever it is (EOF, reset, a 421, our own close), the wait is over
}

void SmtpStream::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<Outcome> SmtpStream::connect(const tcp::endpoint& to, const std::optional<asio::ip::address>& from) {
  arm();
  boost::system::error_code ec;
  socket_.open(to.protocol(), ec);
  if (ec) co_return Outcome::closed;
  if (from) {
    // Let connect() pick the port per (source, destination) rather than bind()
    // per source: one source address then gives ~28k connections to each
    // destination instead of ~28k in all.
    int one = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    socket_.bind(tcp::endpoint(*from, 0), ec);
    if (ec) co_return Outcome::closed;
  }
  auto [cec] = co_await socket_.async_connect(to, kAsTuple);
  if (cec) co_return failure(cec);
  // Commands go out as soon as they are written: no Nagle delay behind an
  // unacknowledged segment (it would add a delayed-ACK wait to latencies).
  socket_.set_option(tcp::no_delay(true), ec);
  co_return Outcome::ok;
}

asio::awaitable<Outcome> SmtpStream::write(std::string_view data) {
  arm();
  auto buf = asio::buffer(data.data(), data.size());
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, buf, kAsTuple);
    co_return ec ? failure(ec) : Outcome::ok;
  }
  auto [ec, n] = co_await asio::async_write(socket_, buf, kAsTuple);
  co_return ec ? failure(ec) : Outcome::ok;
}

asio::awaitable<Outcome> SmtpStream::read_more() {
  char buf[16384];
  auto mb = asio::buffer(buf);
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(mb, kAsTuple);
    if (ec) co_return failure(ec);
    in_.append(buf, n);
    co_return Outcome::ok;
  }
  auto [ec, n] = co_await socket_.async_read_some(mb, kAsTuple);
  if (ec) co_return failure(ec);
  in_.append(buf, n);
  co_return Outcome::ok;
}

asio::awaitable<Outcome> SmtpStream::read_reply(Reply& out) {
  arm();
  out.code = 0;
  out.lines.clear();
  if (parsed_ > 0 && parsed_ == in_.size()) {
    in_.clear();
    parsed_ = 0;
  }
  std::size_t scan = parsed_;
  for (;;) {
    auto eol = in_.find("\r\n", scan);
    if (eol == std::string::npos) {
      if (in_.size() - parsed_ > 64 * 1024) co_return Outcome::bad_reply;  // no sane reply is this long
      Outcome o = co_await read_more();
      if (o != Outcome::ok) co_return o;
      continue;
    }
    std::string_view line(in_.data() + scan, eol - scan);
    scan = eol + 2;
    if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0]))) co_return Outcome::bad_reply;
    if (!out.lines.empty()) out.lines += '\n';
    out.lines.append(line);
    if (line.size() == 3 || line[3] == ' ') {
      out.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      parsed_ = scan;
      co_return Outcome::ok;
    }
  }
}

asio::awaitable<Outcome> SmtpStream::start_tls(asio::ssl::context& ctx, WOLFSSL_SESSION* offer, bool& resumed) {
  arm();
  if (in_.size() > parsed_) co_return Outcome::bad_reply;  // bytes after the 220: STARTTLS injection
  in_.clear();
  parsed_ = 0;
  tls_.emplace(socket_, ctx);
  if (offer) SSL_set_session(tls_->native_handle(), offer);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kAsTuple);
  if (ec) co_return timed_out_ ? Outcome::timeout : Outcome::tls_failed;
  resumed = resumed_ = SSL_session_reused(tls_->native_handle()) != 0;
  co_return Outcome::ok;
}

WOLFSSL_SESSION* SmtpStream::session() {
  return tls_ ? SSL_get1_session(tls_->native_handle()) : nullptr;
}

}  // namespace sluice::loadgen
