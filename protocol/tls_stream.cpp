// The one translation unit that includes Asio's ssl layer (on wolfSSL:
// BOOST_ASIO_USE_WOLFSSL, wolfSSL's options first, its OpenSSL-compatible
// headers first on the include path; see CMakeLists.txt).
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "protocol/tls_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "metrics/tls_counters.hpp"
#include "tls/client_hello.hpp"

#include <sys/socket.h>
#include <array>

namespace sluice::protocol {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using metrics::TlsCounters;

namespace {

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
thread_local unsigned handshakes_running = 0;

IoResult classify(const boost::system::error_code& ec, std::size_t n) {
  if (!ec) return {IoStatus::ok, n};
  if (ec == asio::error::operation_aborted) return {IoStatus::interrupted, n};
  return {IoStatus::closed, n};  // EOF, reset, stream_truncated, a TLS alert
}

class AsioTlsStream final : public TlsStream {
 public:
  AsioTlsStream(asio::ip::tcp::socket& socket, std::shared_ptr<tls::ServerContext> context,
                std::unique_ptr<tls::HandshakeNotes> notes, SSL* ssl)
      : context_(std::move(context)), notes_(std::move(notes)), stream_(socket, ssl) {}

  asio::awaitable<TlsOutcome> handshake(std::chrono::steady_clock::duration timeout,
                                        std::string_view already_read) override {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    if (already_read.empty()) {
      const bool readable = co_await wait_readable(timer);
      if (readable) peek_client_hello();
    } else {
      note_client_hello(already_read);
    }
    auto hs = stream_.async_handshake(asio::ssl::stream_base::server,
                                      asio::buffer(already_read.data(), already_read.size()), kAsTuple);
    auto expiry = timer.async_wait(kAsTuple);
    auto either = std::move(hs) || std::move(expiry);
    auto result = co_await std::move(either);
    TlsOutcome out;
    auto& counters = metrics::tls_counters();
    if (result.index() == 1) {
      out.timed_out = true;
      out.error = "handshake timeout";
      TlsCounters::add(counters.handshake_timeouts);
      co_return out;
    }
    auto [ec, consumed] = std::get<0>(result);
    (void)consumed;
    if (ec) {
      out.error = ec.message();
      TlsCounters::add(counters.handshake_failures);
      co_return out;
    }
    SSL* ssl = stream_.native_handle();
    out.ok = true;
    out.version = wolfSSL_get_version(ssl);
    // The names OpenSSL uses, as other MTAs log them: its own for TLS 1.2
    // ("ECDHE-RSA-AES128-GCM-SHA256", wolfSSL's too), the IANA ones for 1.3
    // ("TLS_AES_128_GCM_SHA256", where wolfSSL says "TLS13-AES128-GCM-SHA256").
    const char* cipher = wolfSSL_CIPHER_get_name(wolfSSL_get_current_cipher(ssl));
    if (out.version == "TLSv1.3") {
      const int suite = wolfSSL_get_current_cipher_suite(ssl);
      const char* iana = wolfSSL_get_cipher_name_iana_from_suite(static_cast<unsigned char>(suite >> 8),
                                                                  static_cast<unsigned char>(suite & 0xff));
      if (iana && *iana && std::string_view(iana) != "None") cipher = iana;
    }
    out.cipher = cipher ? cipher : "";
    out.resumed = wolfSSL_session_reused(ssl) == 1;
    out.notes = *notes_;
    out.peer = tls::peer_certificate(ssl);
    const std::size_t v = out.version == "TLSv1.3" ? metrics::kTls13 : metrics::kTls12;
    TlsCounters::add(out.resumed ? counters.handshakes_resumed[v] : counters.handshakes_full[v]);
    co_return out;
  }

  // Waits until the ClientHello starts to arrive (or the deadline passes).
  asio::awaitable<bool> wait_readable(asio::steady_timer& timer) {
    auto ready = stream_.next_layer().async_wait(asio::socket_base::wait_read, kAsTuple);
    auto expiry = timer.async_wait(kAsTuple);
    auto either = std::move(ready) || std::move(expiry);
    auto result = co_await std::move(either);
    co_return result.index() == 0;
  }

  // wolfSSL does not show us the ClientHello, so look at it without taking
  // it from the socket (MSG_PEEK): did the client ask for a ticket, offer
  // one, ask for OCSP (for the log), can it take an ECDSA certificate (to
  // choose between an RSA and an ECDSA one)? A ClientHello split over
  // several reads is simply not noted: the first certificate that fits the
  // name is served.
  void peek_client_hello() {
    std::array<std::uint8_t, 4096> buf;
    const ssize_t n = ::recv(stream_.next_layer().native_handle(), buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) note_client_hello(std::string_view(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n)));
  }

  void note_client_hello(std::string_view bytes) {
    // RFC 8446 5.1: a handshake record (22) holding the ClientHello.
    if (bytes.size() < 5 || static_cast<std::uint8_t>(bytes[0]) != 22) return;
    const std::size_t len = (static_cast<std::uint8_t>(bytes[3]) << 8) | static_cast<std::uint8_t>(bytes[4]);
    if (bytes.size() < 5 + len) return;
    const auto* body = reinterpret_cast<const std::uint8_t*>(bytes.data() + 5);
    const tls::ClientHelloFacts f = tls::scan_client_hello(std::span<const std::uint8_t>(body, len));
    if (!f.parsed) return;
    notes_->hello_seen = true;
    notes_->client_takes_ecdsa = f.takes_ecdsa;
    notes_->client_asked_ticket = f.asks_ticket;
    notes_->ocsp_requested = f.asks_ocsp;
    if (f.offers_ticket) notes_->ticket_offered = true;
  }

  asio::awaitable<IoResult> read_some(std::span<char> buf, std::chrono::steady_clock::duration timeout) override {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto read = stream_.async_read_some(asio::buffer(buf.data(), buf.size()), kAsTuple);
    auto expiry = timer.async_wait(kAsTuple);
    auto either = std::move(read) || std::move(expiry);
    auto result = co_await std::move(either);
    if (result.index() == 1) co_return IoResult{IoStatus::timeout, 0};
    auto [ec, n] = std::get<0>(result);
    co_return classify(ec, n);
  }

  IoResult read_available(std::span<char> buf) override {
    // Only what the TLS layer has already decrypted: reading the socket
    // synchronously here could leave a record half-processed.
    if (wolfSSL_pending(stream_.native_handle()) <= 0) return {IoStatus::would_block, 0};
    boost::system::error_code ec;
    const std::size_t n = stream_.read_some(asio::buffer(buf.data(), buf.size()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return {IoStatus::would_block, n};
    if (ec) return {IoStatus::closed, n};
    return {IoStatus::ok, n};
  }

  asio::awaitable<IoResult> write_all(std::string_view data, std::chrono::steady_clock::duration timeout) override {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto write = asio::async_write(stream_, asio::buffer(data.data(), data.size()), kAsTuple);
    auto expiry = timer.async_wait(kAsTuple);
    auto either = std::move(write) || std::move(expiry);
    auto result = co_await std::move(either);
    if (result.index() == 1) co_return IoResult{IoStatus::timeout, 0};
    auto [ec, n] = std::get<0>(result);
    co_return classify(ec, n);
  }

  asio::awaitable<std::string> await_peer_close(std::chrono::steady_clock::duration timeout) override {
    std::array<char, 64> buf;
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto read = stream_.async_read_some(asio::buffer(buf), kAsTuple);
    auto expiry = timer.async_wait(kAsTuple);
    auto either = std::move(read) || std::move(expiry);
    auto result = co_await std::move(either);
    if (result.index() == 1) co_return std::string("timeout");
    auto [ec, n] = std::get<0>(result);
    if (!ec) co_return std::string("data");
    if (ec == asio::error::eof) co_return std::string("close_notify");
    if (ec == asio::ssl::error::stream_truncated) co_return std::string("eof");
    if (ec == asio::error::connection_reset) co_return std::string("reset");
    co_return ec.message();
  }

  void shutdown() override {
    boost::system::error_code ec;
    stream_.shutdown(ec);  // sends close_notify; the socket is non-blocking, so no wait for the peer's
  }

 private:
  std::shared_ptr<tls::ServerContext> context_;   // the session's certificates live as long as it
  std::unique_ptr<tls::HandshakeNotes> notes_;    // written by the handshake callbacks
  asio::ssl::stream<asio::ip::tcp::socket&> stream_;
};

}  // namespace

std::string TlsOutcome::resumption_bits() const {
  std::string bits = "S";  // built with session tickets (HAVE_SESSION_TICKET)
  if (notes.client_asked_ticket) bits += 'A';
  if (notes.ticket_offered) bits += 'O';
  if (notes.ticket_issued) bits += 'I';
  if (resumed) bits += 'R';
  return bits;
}

std::unique_ptr<TlsStream> TlsStream::make(asio::ip::tcp::socket& socket, std::shared_ptr<tls::ServerContext> context) {
  auto notes = std::make_unique<tls::HandshakeNotes>();
  SSL* ssl = static_cast<SSL*>(context->new_session(notes.get()));
  if (!ssl) return nullptr;
  return std::make_unique<AsioTlsStream>(socket, std::move(context), std::move(notes), ssl);
}

bool try_begin_handshake(unsigned limit) {
  if (handshakes_running >= limit) {
    TlsCounters::add(metrics::tls_counters().handshakes_refused_busy);
    return false;
  }
  ++handshakes_running;
  return true;
}

void end_handshake() {
  if (handshakes_running > 0) --handshakes_running;
}

}  // namespace sluice::protocol
