// The TLS session drives wolfSSL directly on the connection's socket: its
// I/O callbacks hand wolfSSL bytes already read and send() on the
// non-blocking descriptor, and when wolfSSL wants more (WANT_READ /
// WANT_WRITE) the coroutine waits with Asio and calls again. No BIO pair and
// no record buffers of our own: an idle session costs what wolfSSL keeps for
// it (its input buffer shrinks back after each record) and a 2 KiB landing
// buffer, not four 17 KiB buffers as with Asio's ssl::stream
// (docs/benchmarks.md, finding 6).
//
// Waiting for input is an Asio read into the landing buffer, not an
// async_wait: a read keeps Asio's epoll registration as it is (async_wait
// re-arms it with an epoll_ctl each time); Asio tries the read once before it
// waits for epoll, which is the one recv() a wait costs. A read that fills the
// landing buffer means more may be queued: the callback then reads the rest
// straight into a per-thread buffer and keeps what wolfSSL did not ask for
// yet (the stash), so bulk data does not go 2 KiB at a time.
#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>

#include "protocol/tls_stream.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>
#include <cerrno>
#include <algorithm>
#include <cstring>
#include <optional>

#include "metrics/tls_counters.hpp"
#include "tls/client_hello.hpp"

namespace sluice::protocol {

namespace asio = boost::asio;
using metrics::TlsCounters;

namespace {

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
// One TLS record with its header and the most a cipher adds (RFC 8446 5.2),
// and the start of the next.
constexpr std::size_t kReadAhead = 16 * 1024 + 256 + 5 + 4096;
// A ClientHello (OpenSSL's are 200-600 bytes; a post-quantum key share
// makes about 1.8 KiB) or a flight of small records: commands, Finished.
constexpr std::size_t kLanding = 2048;
// A TLS record's header: type, version, length (RFC 8446 5.1).
constexpr std::size_t kRecordHeader = 5;
thread_local unsigned handshakes_running = 0;

// One of the worker's handshake slots, given back when it goes.
class HandshakeSlot {
 public:
  HandshakeSlot() = default;
  HandshakeSlot(const HandshakeSlot&) = delete;
  HandshakeSlot& operator=(const HandshakeSlot&) = delete;
  ~HandshakeSlot() {
    if (taken_) --handshakes_running;
  }
  bool take(unsigned limit) {
    if (handshakes_running >= limit) {
      TlsCounters::add(metrics::tls_counters().handshakes_refused_busy);
      return false;
    }
    ++handshakes_running;
    taken_ = true;
    return true;
  }

 private:
  bool taken_ = false;
};

// How the socket's input ended (or a send failed), as a wait or an I/O
// callback saw it: wolfSSL folds a reset and an EOF into errors that do not
// tell them apart.
enum class LastIo { none, eof, reset, error };

class WolfTlsStream final : public TlsStream {
 public:
  WolfTlsStream(asio::ip::tcp::socket& socket, IoDeadline& deadline, std::shared_ptr<tls::ServerContext> context,
                std::unique_ptr<tls::HandshakeNotes> notes, WOLFSSL* ssl)
      : socket_(socket), deadline_(deadline), context_(std::move(context)), notes_(std::move(notes)), ssl_(ssl) {
    wolfSSL_SSLSetIORecv(ssl_, &WolfTlsStream::on_recv);
    wolfSSL_SSLSetIOSend(ssl_, &WolfTlsStream::on_send);
    wolfSSL_SetIOReadCtx(ssl_, this);
    wolfSSL_SetIOWriteCtx(ssl_, this);
  }
  ~WolfTlsStream() override { wolfSSL_free(ssl_); }
  WolfTlsStream(const WolfTlsStream&) = delete;
  WolfTlsStream& operator=(const WolfTlsStream&) = delete;

  asio::awaitable<TlsOutcome> handshake(std::chrono::steady_clock::duration timeout,
                                        std::string_view already_read, unsigned max_running) override {
    const IoDeadline::Armed armed(deadline_, timeout);
    const Hello hello = co_await read_client_hello(already_read);
    TlsOutcome out;
    auto& counters = metrics::tls_counters();
    // wolfSSL is called only with a whole ClientHello: before that the
    // handshake has cost no CPU and holds no slot, and whatever stops it
    // (the deadline, a drain, the client leaving, bytes that are no hello)
    // ends it here.
    if (hello.end != HelloEnd::whole) {
      out.timed_out = hello.end == HelloEnd::timeout;
      out.error = out.timed_out                               ? "handshake timeout"
                  : hello.end == HelloEnd::interrupted        ? "interrupted"
                  : hello.end == HelloEnd::not_a_client_hello ? "not a TLS ClientHello"
                  : input_end_text()                          ? input_end_text()
                                                              : "read error";
      TlsCounters::add(out.timed_out ? counters.handshake_timeouts : counters.handshake_failures);
      co_return out;
    }
    // The work starts here: the session holds one of the worker's slots
    // from now on, or none is left and it is refused.
    HandshakeSlot slot;
    if (!slot.take(max_running)) {
      out.busy = true;
      out.error = "max_handshakes_per_worker";
      co_return out;
    }
    note_client_hello(hello.bytes);
    for (;;) {
      const int r = wolfSSL_accept(ssl_);
      if (r == WOLFSSL_SUCCESS) break;
      const Wait w = co_await wait_after(r);
      if (w == Wait::ready) continue;
      if (w == Wait::timeout) {
        out.timed_out = true;
        out.error = "handshake timeout";
        TlsCounters::add(counters.handshake_timeouts);
      } else {
        // A drain ends a handshake as it ends the wait for a ClientHello.
        out.error = w == Wait::interrupted ? "interrupted" : failure_text(r);
        TlsCounters::add(counters.handshake_failures);
      }
      co_return out;
    }
    out.ok = true;
    out.version = wolfSSL_get_version(ssl_);
    // The names OpenSSL uses, as other MTAs log them: its own for TLS 1.2
    // ("ECDHE-RSA-AES128-GCM-SHA256", wolfSSL's too), the IANA ones for 1.3
    // ("TLS_AES_128_GCM_SHA256", where wolfSSL says "TLS13-AES128-GCM-SHA256").
    const char* cipher = wolfSSL_CIPHER_get_name(wolfSSL_get_current_cipher(ssl_));
    if (out.version == "TLSv1.3") {
      const int suite = wolfSSL_get_current_cipher_suite(ssl_);
      const char* iana = wolfSSL_get_cipher_name_iana_from_suite(static_cast<unsigned char>(suite >> 8),
                                                                  static_cast<unsigned char>(suite & 0xff));
      if (iana && *iana && std::string_view(iana) != "None") cipher = iana;
    }
    out.cipher = cipher ? cipher : "";
    out.resumed = wolfSSL_session_reused(ssl_) == 1;
    out.notes = *notes_;
    out.peer = tls::peer_certificate(ssl_);
    const std::size_t v = out.version == "TLSv1.3" ? metrics::kTls13 : metrics::kTls12;
    TlsCounters::add(out.resumed ? counters.handshakes_resumed[v] : counters.handshakes_full[v]);
    co_return out;
  }

  asio::awaitable<IoResult> read_some(std::span<char> buf, std::chrono::steady_clock::duration timeout) override {
    deadline_.arm(timeout);
    for (;;) {
      // Always ask wolfSSL first: records it already holds (read together
      // with an earlier one) are not in the socket any more.
      const int n = wolfSSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
      if (n > 0) {
        deadline_.disarm();
        co_return IoResult{IoStatus::ok, static_cast<std::size_t>(n)};
      }
      const Wait w = co_await wait_after(n);
      if (w == Wait::ready) continue;
      deadline_.disarm();
      if (w == Wait::timeout) co_return IoResult{IoStatus::timeout, 0};
      if (w == Wait::interrupted) co_return IoResult{IoStatus::interrupted, 0};
      note_failure(n);
      co_return IoResult{IoStatus::closed, 0};  // close_notify, EOF, reset, an alert
    }
  }

  IoResult read_available(std::span<char> buf) override {
    // Only what wolfSSL has already decrypted: never a socket read here.
    if (wolfSSL_pending(ssl_) <= 0) return {IoStatus::would_block, 0};
    const int n = wolfSSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
    if (n > 0) return {IoStatus::ok, static_cast<std::size_t>(n)};
    const int err = wolfSSL_get_error(ssl_, n);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) return {IoStatus::would_block, 0};
    note_failure(n);
    return {IoStatus::closed, 0};
  }

  asio::awaitable<IoResult> write_all(std::string_view data, std::chrono::steady_clock::duration timeout) override {
    // Armed only when a write must wait, as on plain connections: most
    // replies go out at once, and arming for them would move the watchdog's
    // pending wake earlier (a write timeout is shorter than a command's)
    // for nothing. A drain's wake-up ends the write as `interrupted` with
    // the bytes taken so far; the connection decides whether to go on
    // (Connection::stream_write_all).
    std::optional<IoDeadline::Armed> armed;
    std::size_t done = 0;
    while (done < data.size()) {
      // After WANT_WRITE wolfSSL must be called again with the same bytes:
      // the loop does, since `done` moves only on success.
      const int n = wolfSSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done));
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (!armed) armed.emplace(deadline_, timeout);
      const Wait w = co_await wait_after(n);
      if (w == Wait::ready) continue;
      // Part of a record may be left in wolfSSL's output buffer: see shutdown().
      write_unfinished_ = true;
      if (w == Wait::timeout) co_return IoResult{IoStatus::timeout, done};
      if (w == Wait::interrupted) co_return IoResult{IoStatus::interrupted, done};
      note_failure(n);
      co_return IoResult{IoStatus::closed, done};
    }
    write_unfinished_ = false;
    co_return IoResult{IoStatus::ok, done};
  }

  asio::awaitable<std::string> await_peer_close(std::chrono::steady_clock::duration timeout) override {
    const IoDeadline::Armed armed(deadline_, timeout);
    std::array<char, 64> buf;
    for (;;) {
      const int n = wolfSSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
      if (n > 0) co_return std::string("data");
      const int err = wolfSSL_get_error(ssl_, n);
      if (err == WOLFSSL_ERROR_ZERO_RETURN) co_return std::string("close_notify");
      if (last_io_ == LastIo::reset) co_return std::string("reset");
      if (last_io_ == LastIo::eof) co_return std::string("eof");
      const Wait w = co_await wait_after(n);
      if (w == Wait::ready) continue;
      if (w == Wait::timeout) co_return std::string("timeout");
      co_return failure_text(n);
    }
  }

  std::string_view protocol_error() const override { return protocol_error_; }

  void shutdown() override {
    // Sends close_notify if the socket takes it now; never waits for the
    // peer's (RFC 8446 6.1 allows closing then).
    //
    // Not after a write given up halfway (timeout, a drain past its
    // deadline, a failed socket): the peer has part of a record, so an
    // alert behind it could not be read anyway, and wolfSSL 5.5.4 goes
    // wrong there: with the rest of the record still in its output buffer,
    // wolfSSL_shutdown() handed our send callback 6,329 bytes starting at
    // the end of that 16,421-byte buffer (AddressSanitizer,
    // heap-buffer-overflow, in test_tls.py's
    // test_write_timeout_closes_a_tls_client_that_stops_reading): heap bytes
    // that would have gone to the client. Skipped too when a read left a
    // write of wolfSSL's own pending (a KeyUpdate's answer, a ticket): the
    // same state by the same reasoning, though no test has reached it.
    if (write_unfinished_ || wolfSSL_want_write(ssl_) || last_io_ == LastIo::reset || last_io_ == LastIo::error) return;
    wolfSSL_shutdown(ssl_);
  }

 private:
  enum class Wait { ready, timeout, interrupted, failed };

  // The I/O callbacks. wolfSSL gets what the last wait read (the landing
  // buffer), then the stash, refilled by a recv() of its own only while the
  // socket may still hold more; then how the input ended, if it has.
  // Otherwise "would block" becomes WANT_READ / WANT_WRITE and the coroutine
  // waits with Asio.
  static int on_recv(WOLFSSL*, char* buf, int size, void* ctx) {
    auto* self = static_cast<WolfTlsStream*>(ctx);
    const auto want = static_cast<std::size_t>(size);
    if (self->landing_at_ < self->landing_len_) {
      const std::size_t n = std::min(self->landing_len_ - self->landing_at_, want);
      std::memcpy(buf, self->landing_.data() + self->landing_at_, n);
      self->landing_at_ += n;
      return static_cast<int>(n);
    }
    if (self->stash_at_ == self->stash_.size() && self->socket_may_hold_more_) self->refill_stash();
    if (self->stash_at_ < self->stash_.size()) return static_cast<int>(self->take_stash(buf, want));
    if (self->last_io_ == LastIo::eof) return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    if (self->last_io_ == LastIo::reset) return WOLFSSL_CBIO_ERR_CONN_RST;
    if (self->last_io_ == LastIo::error) return WOLFSSL_CBIO_ERR_GENERAL;
    return WOLFSSL_CBIO_ERR_WANT_READ;
  }

  // wolfSSL reads a record in two steps, its 5-byte header and then its
  // body, and a client's flight is often several records: one recv() of all
  // there is, kept in the stash, saves most of those system calls. Even a
  // short read leaves socket_may_hold_more_ set: in a stream of records the
  // next one is often in by the time wolfSSL asks, and finding out costs a
  // recv(), where a wait costs a trip through Asio.
  void refill_stash() {
    std::array<char, kReadAhead>& scratch = read_scratch();
    ssize_t n;
    do {
      n = ::recv(socket_.native_handle(), scratch.data(), scratch.size(), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      stash_.append(scratch.data(), static_cast<std::size_t>(n));
      return;
    }
    socket_may_hold_more_ = false;
    if (n == 0) last_io_ = LastIo::eof;
    else if (errno == ECONNRESET) last_io_ = LastIo::reset;
    else if (errno != EAGAIN && errno != EWOULDBLOCK) last_io_ = LastIo::error;
  }

  // Where a read lands before its bytes are handed out: one per thread, so
  // a session holds only what is left over.
  static std::array<char, kReadAhead>& read_scratch() {
    thread_local std::array<char, kReadAhead> scratch;
    return scratch;
  }

  // Bytes read from the socket that wolfSSL has not taken yet. Emptied, the
  // string gives its memory back: an idle session keeps nothing here.
  std::size_t take_stash(char* buf, std::size_t want) {
    const std::size_t n = std::min(stash_.size() - stash_at_, want);
    std::memcpy(buf, stash_.data() + stash_at_, n);
    stash_at_ += n;
    if (stash_at_ == stash_.size()) {
      std::string().swap(stash_);
      stash_at_ = 0;
    }
    return n;
  }

  static int on_send(WOLFSSL*, char* buf, int size, void* ctx) {
    auto* self = static_cast<WolfTlsStream*>(ctx);
    for (;;) {
      const ssize_t n = ::send(self->socket_.native_handle(), buf, static_cast<std::size_t>(size), MSG_NOSIGNAL);
      if (n >= 0) return static_cast<int>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return WOLFSSL_CBIO_ERR_WANT_WRITE;
      if (errno == ECONNRESET) {
        self->last_io_ = LastIo::reset;
        return WOLFSSL_CBIO_ERR_CONN_RST;
      }
      self->last_io_ = LastIo::error;
      return errno == EPIPE ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_GENERAL;
    }
  }

  // After a wolfSSL call returned `r` (not a success): wait for what it
  // wants, or say why not.
  asio::awaitable<Wait> wait_after(int r) {
    const int err = wolfSSL_get_error(ssl_, r);
    Wait w = Wait::failed;
    if (err == WOLFSSL_ERROR_WANT_READ) w = co_await wait_for_input();
    else if (err == WOLFSSL_ERROR_WANT_WRITE) w = co_await wait_for_writable();
    co_return w;
  }

  // Called only when wolfSSL has taken every byte read so far. The end of
  // the input (EOF, a reset) is kept in last_io_ for on_recv to report to
  // wolfSSL, as its own recv() would have.
  asio::awaitable<Wait> wait_for_input() {
    // The read lands over landing_: bytes still in it or in the stash would
    // be lost or reordered.
    assert(landing_at_ == landing_len_ && stash_at_ == stash_.size());
    const Wait w = co_await receive_into_landing();
    co_return w;
  }

  // The wait itself, for wait_for_input() and for the rest of a ClientHello
  // (whose first part is then in the stash, not yet given to wolfSSL).
  asio::awaitable<Wait> receive_into_landing() {
    assert(landing_at_ == landing_len_);
    if (deadline_.expired()) co_return Wait::timeout;
    landing_len_ = landing_at_ = 0;  // all taken; an EOF or error leaves it empty
    auto input = socket_.async_receive(asio::buffer(landing_), kAsTuple);
    const auto [ec, n] = co_await std::move(input);
    if (ec == asio::error::operation_aborted) co_return aborted();
    if (ec == asio::error::eof) {
      last_io_ = LastIo::eof;
    } else if (ec == asio::error::connection_reset) {
      last_io_ = LastIo::reset;
    } else if (ec) {
      last_io_ = LastIo::error;
    } else {
      landing_len_ = n;
      landing_at_ = 0;
      socket_may_hold_more_ = n == landing_.size();
    }
    co_return Wait::ready;
  }

  asio::awaitable<Wait> wait_for_writable() {
    if (deadline_.expired()) co_return Wait::timeout;
    auto ready = socket_.async_wait(asio::socket_base::wait_write, kAsTuple);
    const auto [ec] = co_await std::move(ready);
    if (ec == asio::error::operation_aborted) co_return aborted();
    co_return ec ? Wait::failed : Wait::ready;
  }

  // A wait ended by socket.cancel(): the watchdog at the operation's
  // deadline, or else the drain. Every wait looks at expired() before it
  // starts: the watchdog may have fired while the last wait's completion
  // was queued (a receive that completes at once is queued, not run), so
  // it cancelled nothing and sleeps until the next arm(); a handshake or a
  // record still incomplete would otherwise be waited for with no deadline.
  Wait aborted() const { return deadline_.expired() ? Wait::timeout : Wait::interrupted; }

  // How the input ended, for the log; nullptr when it has not.
  const char* input_end_text() const {
    if (last_io_ == LastIo::reset) return "connection reset by peer";
    if (last_io_ == LastIo::eof) return "end of file";
    return nullptr;
  }

  // After a read or write that ended the session: kept when TLS itself
  // ended it (an alert the client sent, one wolfSSL sent for a record it
  // would not take, a renegotiation attempt), not when the input ended or
  // the client said close_notify, which are how sessions end.
  void note_failure(int r) {
    if (!protocol_error_.empty()) return;
    const int err = wolfSSL_get_error(ssl_, r);
    // Not TLS's doing: the client closed (close_notify, or the transport
    // ended: EOF, a reset), the socket failed (EPIPE, an unreachable host)
    // or a wait on it did. Asked of wolfSSL's error, not of how the input
    // ended: a record that failed its check before the client left is
    // still named.
    if (err == WOLFSSL_ERROR_ZERO_RETURN || err == SOCKET_ERROR_E || err == SOCKET_PEER_CLOSED_E ||
        err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
      return;
    // A handshake message on an established TLS 1.2 session is, in practice,
    // the client starting a renegotiation (a ClientHello); wolfSSL (built
    // without renegotiation) answers with an unexpected_message alert and
    // calls it a duplicate message. Named here for the operator, since a
    // flood of them is the thc-ssl-dos attack.
    const bool renegotiation = err == DUPLICATE_MSG_E && wolfSSL_version(ssl_) != TLS1_3_VERSION;
    protocol_error_ = renegotiation ? "renegotiation refused" : error_text(err);
  }

  std::string failure_text(int r) const {
    if (const char* ended = input_end_text()) return ended;
    return error_text(wolfSSL_get_error(ssl_, r));
  }

  static std::string error_text(int err) {
    char text[WOLFSSL_MAX_ERROR_SZ] = {0};
    wolfSSL_ERR_error_string_n(static_cast<unsigned long>(err), text, sizeof text);
    return text[0] ? std::string(text) : "TLS error " + std::to_string(err);
  }

  // wolfSSL does not show us the ClientHello, so it is read first and
  // looked at, then wolfSSL gets the same bytes: did the client ask for a
  // ticket, offer one, ask for OCSP (for the log), can it take an ECDSA
  // certificate (to choose between an RSA and an ECDSA one)? The first read
  // may hold only part of it: a hello longer than the landing buffer, or one
  // longer than a TCP segment (about 1.4 KiB on a real network; a
  // post-quantum key share makes about 1.8 KiB) whose second segment was
  // not in yet. Then the rest is read into the stash, within the handshake's
  // deadline, until the record its header announces is whole: a hello not
  // seen whole would get the first certificate that fits the name, an ECDSA
  // one even for a client that takes only RSA. The stash holds at most the
  // record (16 KiB and its header) and one landing buffer.
  enum class HelloEnd { whole, not_a_client_hello, timeout, interrupted, input_ended };
  struct Hello {
    HelloEnd end;
    std::string_view bytes;  // when whole: the record, and anything that came with it
  };

  asio::awaitable<Hello> read_client_hello(std::string_view already_read) {
    if (already_read.empty()) {
      const Wait w = co_await wait_for_input();
      if (w != Wait::ready) co_return Hello{hello_end(w), {}};
      // The usual case: the whole hello in one read, handed over from the
      // landing buffer as it is. Anything else goes through the stash.
      const std::string_view first(landing_.data(), landing_len_);
      const std::optional<std::size_t> need = hello_record_size(first);
      if (need && first.size() >= *need && !socket_may_hold_more_) co_return Hello{HelloEnd::whole, first};
      stash_.assign(first);
      landing_len_ = landing_at_ = 0;
    } else {
      stash_.assign(already_read);
    }
    for (;;) {
      const std::optional<std::size_t> need = hello_record_size(stash_);
      if (!need) co_return Hello{HelloEnd::not_a_client_hello, {}};
      if (stash_.size() >= *need) co_return Hello{HelloEnd::whole, stash_};
      if (socket_may_hold_more_) {
        read_missing(*need - stash_.size());
        continue;
      }
      if (last_io_ != LastIo::none) co_return Hello{HelloEnd::input_ended, {}};
      const Wait w = co_await receive_into_landing();
      if (w != Wait::ready) co_return Hello{hello_end(w), {}};
      stash_.append(landing_.data(), landing_len_);
      landing_len_ = landing_at_ = 0;
    }
  }

  static HelloEnd hello_end(Wait w) {
    if (w == Wait::timeout) return HelloEnd::timeout;
    if (w == Wait::interrupted) return HelloEnd::interrupted;
    return HelloEnd::input_ended;
  }

  // Reads up to `missing` more bytes of the hello straight into the stash,
  // no more: what follows the hello stays in the socket until wolfSSL asks.
  void read_missing(std::size_t missing) {
    const std::size_t have = stash_.size();
    stash_.resize(have + missing);
    ssize_t n;
    do {
      n = ::recv(socket_.native_handle(), stash_.data() + have, missing, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    stash_.resize(have + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    socket_may_hold_more_ = false;  // whole now, or the next wait finds the rest
    if (n == 0) last_io_ = LastIo::eof;
    else if (n < 0 && errno == ECONNRESET) last_io_ = LastIo::reset;
    else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) last_io_ = LastIo::error;
  }

  // How many bytes make the first record whole, as its header says (RFC
  // 8446 5.1): a handshake record (type 22) of 1 to 2^14 bytes. nullopt
  // when the bytes cannot be the start of a ClientHello's record: they are
  // refused without wolfSSL (which would take a length up to about 17 KiB
  // and wait for it) and without a slot.
  static std::optional<std::size_t> hello_record_size(std::string_view bytes) {
    constexpr std::size_t kMaxPlaintext = 16384;
    if (!bytes.empty() && static_cast<std::uint8_t>(bytes[0]) != 22) return std::nullopt;
    if (bytes.size() < kRecordHeader) return kRecordHeader;
    const std::size_t len = (static_cast<std::uint8_t>(bytes[3]) << 8) | static_cast<std::uint8_t>(bytes[4]);
    if (len == 0 || len > kMaxPlaintext) return std::nullopt;
    return kRecordHeader + len;
  }

  // `hello`: a whole ClientHello record (read_client_hello()), its body
  // scanned for the facts above.
  void note_client_hello(std::string_view hello) {
    const std::size_t record = *hello_record_size(hello);
    const auto* body = reinterpret_cast<const std::uint8_t*>(hello.data() + kRecordHeader);
    const tls::ClientHelloFacts f =
        tls::scan_client_hello(std::span<const std::uint8_t>(body, record - kRecordHeader));
    if (!f.parsed) return;
    notes_->hello_seen = true;
    notes_->client_takes_ecdsa = f.takes_ecdsa;
    notes_->client_asked_ticket = f.asks_ticket;
    notes_->ocsp_requested = f.asks_ocsp;
    if (f.offers_ticket) notes_->ticket_offered = true;
  }

  asio::ip::tcp::socket& socket_;
  IoDeadline& deadline_;                          // the connection's: bounds every wait
  std::shared_ptr<tls::ServerContext> context_;   // the session's certificates live as long as it
  std::unique_ptr<tls::HandshakeNotes> notes_;    // written by the handshake callbacks
  WOLFSSL* ssl_;
  std::array<char, kLanding> landing_;            // what the last wait read ...
  std::size_t landing_len_ = 0;
  std::size_t landing_at_ = 0;                    // ... and how much wolfSSL has taken
  std::string stash_;                             // read by on_recv, not yet taken by wolfSSL
  std::size_t stash_at_ = 0;                      // ... from here on
  bool socket_may_hold_more_ = false;             // the last read filled its buffer
  LastIo last_io_ = LastIo::none;
  bool write_unfinished_ = false;                  // write_all gave up with bytes left: no close_notify
  std::string protocol_error_;                    // note_failure()
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

std::unique_ptr<TlsStream> TlsStream::make(asio::ip::tcp::socket& socket, IoDeadline& deadline,
                                           std::shared_ptr<tls::ServerContext> context) {
  auto notes = std::make_unique<tls::HandshakeNotes>();
  auto* ssl = static_cast<WOLFSSL*>(context->new_session(notes.get()));
  if (!ssl) return nullptr;
  return std::make_unique<WolfTlsStream>(socket, deadline, std::move(context), std::move(notes), ssl);
}

bool handshake_slots_full(unsigned limit) { return handshakes_running >= limit; }

}  // namespace sluice::protocol
