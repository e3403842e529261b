// tls_stream.hpp — a TLS server session over the connection's TCP socket
// (wolfSSL driven directly on the non-blocking socket, the coroutine waiting
// with Asio reads), with the same read/write calls as the plain socket in
// connection_io.hpp, so the connection does not care which one it talks
// through.
//
// This header keeps wolfSSL's headers out of the files that include it;
// tls_stream.cpp is the one translation unit of protocol/ that knows them.
// Contract: the socket and the connection's deadline (io_deadline.hpp) must
// outlive the stream, and the deadline's watchdog must run while an
// operation waits. handshake() is called once; reads and writes only after
// it succeeded. Every operation has a deadline, kept by that watchdog (no
// timer per wait), and results are values (IoResult), never exceptions.
// After a timeout the stream is done: the caller ends the session (as
// every caller does).
// Bounded cost: at most tls.max_handshakes_per_worker handshakes run at once
// on one worker thread, counted from the moment a whole ClientHello is in
// (the handshake takes its slot then); the rest are refused, so a flood of
// ClientHellos cannot starve the sessions already there, and connections
// that send nothing hold no slot (docs/architecture.md, "TLS handshake cost").
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "protocol/connection_io.hpp"
#include "protocol/io_deadline.hpp"
#include "tls/server_context.hpp"

namespace sluice::protocol {

struct TlsOutcome {
  bool ok = false;
  bool timed_out = false;
  std::string error;         // why it failed, for the log
  std::string version;       // "TLSv1.3"
  std::string cipher;        // OpenSSL's name: "ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"
  bool resumed = false;
  bool busy = false;         // refused: the worker's handshake slots were all taken
  tls::HandshakeNotes notes;
  tls::PeerCertificate peer;  // when tls.client_ca_file asked for one
  // The cipher as the log shows it: "*" appended when the session was resumed.
  std::string cipher_for_log() const { return resumed ? cipher + "*" : cipher; }
  // The resumption bits, Exim-style letters: S support built, A client asked
  // for a ticket, O client offered a session, I ticket issued, R resumed.
  std::string resumption_bits() const;
};

class TlsStream {
 public:
  // nullptr when the session cannot be created (out of memory).
  static std::unique_ptr<TlsStream> make(boost::asio::ip::tcp::socket& socket, IoDeadline& deadline,
                                         std::shared_ptr<tls::ServerContext> context);
  virtual ~TlsStream() = default;

  // `already_read`: bytes of the ClientHello read before the stream existed
  // (behind a PROXY header on an implicit-TLS listener); never plaintext
  // that followed STARTTLS, which the caller discards. `max_running`: the
  // worker's cap; the slot is taken once the ClientHello is whole (before
  // that the handshake costs no CPU) and given back when this returns.
  virtual boost::asio::awaitable<TlsOutcome> handshake(std::chrono::steady_clock::duration timeout,
                                                       std::string_view already_read, unsigned max_running) = 0;
  virtual boost::asio::awaitable<IoResult> read_some(std::span<char> buf,
                                                     std::chrono::steady_clock::duration timeout) = 0;
  // Decrypted bytes already buffered in the TLS layer, without waiting
  // (would_block when there are none: then wait with read_some()).
  virtual IoResult read_available(std::span<char> buf) = 0;
  virtual boost::asio::awaitable<IoResult> write_all(std::string_view data,
                                                     std::chrono::steady_clock::duration timeout) = 0;
  // Why TLS ended the session, when a read or write returned `closed` for
  // a reason of its own: wolfSSL's text for the alert received or sent
  // ("received alert fatal error", "Unexpected message", ...). Empty when
  // the client closed (close_notify, EOF, reset) or nothing failed.
  virtual std::string_view protocol_error() const = 0;
  // Sends close_notify without waiting for the peer's (RFC 8446 6.1 lets us
  // close then); errors are ignored, the peer may be gone.
  virtual void shutdown() = 0;
  // After shutdown(): how the client leaves, for the protocol-detail log:
  // "close_notify", "eof" (FIN without close_notify), "reset", "data", "timeout".
  virtual boost::asio::awaitable<std::string> await_peer_close(std::chrono::steady_clock::duration timeout) = 0;
};

// Per worker thread: are all `limit` handshake slots taken now? (STARTTLS
// says 454 then, before its 220.) A count per event-loop thread, not per
// session: it is what bounds the loop's CPU time spent in handshakes.
bool handshake_slots_full(unsigned limit);

}  // namespace sluice::protocol
