// TLS on an SMTP connection: STARTTLS (RFC 3207) and implicit TLS
// (RFC 8314 3.3), and the choice between socket and TLS stream for I/O.
//
// Security (CVE-2011-0411 class): whatever the client pipelined behind
// STARTTLS arrived in clear and could have been injected by anyone on the
// path; it is discarded, never read as commands after the handshake. The
// SMTP state is reset (SmtpServer::tls_started) and EHLO is required again.
#include <algorithm>

#include "gateway/log.hpp"
#include "metrics/tls_counters.hpp"
#include "protocol/connection.hpp"

namespace sluice::protocol {

namespace asio = boost::asio;
using metrics::TlsCounters;

asio::awaitable<IoResult> Connection::stream_read_some(std::span<char> buf, std::chrono::steady_clock::duration timeout) {
  if (tls_) {
    IoResult r = co_await tls_->read_some(buf, timeout);
    co_return r;
  }
  IoResult r = co_await read_some(socket_, buf, io_deadline_, timeout);
  co_return r;
}

IoResult Connection::stream_read_available(std::span<char> buf) {
  return tls_ ? tls_->read_available(buf) : read_available(socket_, buf);
}

asio::awaitable<IoResult> Connection::stream_write_all(std::string_view data, std::chrono::steady_clock::duration timeout) {
  // The drain wakes whatever the connection waits for (socket.cancel()),
  // a write the client is slow to take included. A reply is finished, not
  // cut: it may be the 250 for a message already queued, and a client that
  // never sees it sends the message again. Still bounded by `timeout` in
  // all, and cut once the drain deadline has passed.
  using clock = std::chrono::steady_clock;
  const clock::time_point end = clock::now() + timeout;
  IoResult total{IoStatus::ok, 0};
  for (;;) {
    const clock::duration left = std::max(end - clock::now(), clock::duration::zero());
    IoResult r;
    if (tls_) {
      r = co_await tls_->write_all(data, left);
    } else {
      r = co_await write_all(socket_, data, io_deadline_, left);
    }
    total.bytes += r.bytes;
    data.remove_prefix(r.bytes);
    total.status = r.status;
    if (r.status != IoStatus::interrupted) break;
    if (!ctx_.control || ctx_.control->drain_deadline_passed) break;
    if (clock::now() >= end) {
      total.status = IoStatus::timeout;
      break;
    }
  }
  co_return total;
}

asio::awaitable<Connection::Flow> Connection::handle_starttls(const Step& step) {
  // Bounded handshake work per worker: when every slot is taken now, say so
  // before the 220 (RFC 3207 4: 454 for a temporary reason); the client may
  // go on in clear or try later. (The slot itself is taken when the
  // ClientHello is in; should the last one go in between, the connection
  // is closed then, as for implicit TLS.)
  if (handshake_slots_full(cfg_.tls.max_handshakes_per_worker)) {
    TlsCounters::add(metrics::tls_counters().handshakes_refused_busy);
    Reply busy(454, "4.7.0", "TLS not available due to temporary reason");
    log_reject(busy, "STARTTLS");
    queue(busy);
    co_return Flow::go_on;
  }
  queue(step.reply);
  const bool flushed = co_await flush();
  if (!flushed) co_return Flow::stop;
  if (!in_.empty()) {
    TlsCounters::add(metrics::tls_counters().starttls_plaintext_discarded);
    gateway::log_warn("starttls_pipelined")
        .field("conn", session_.id)
        .field("H", session_.host_for_log())
        .field("bytes", static_cast<std::uint64_t>(in_.size()))
        .field("effect", "discarded");
    in_.consume(in_.size());
  }
  const Flow flow = co_await start_tls(false);
  co_return flow;
}

asio::awaitable<Connection::Flow> Connection::start_tls(bool implicit) {
  if (!ctx_.tls) {  // cannot happen for a configured listener; never fall back to clear text
    end_reason_ = "no TLS context";
    co_return Flow::stop;
  }
  auto stream = TlsStream::make(socket_, io_deadline_, ctx_.tls);
  if (!stream) {
    end_reason_ = "TLS session not created";
    co_return Flow::stop;
  }
  // Implicit TLS behind a PROXY header: the ClientHello may have been read
  // with the header. After STARTTLS the buffer was emptied (discarded) above.
  const std::string already(in_.peek());
  in_.consume(in_.size());
  const TlsOutcome tls =
      co_await stream->handshake(cfg_.tls.handshake_timeout, already, cfg_.tls.max_handshakes_per_worker);
  if (tls.busy) {
    end_reason_ = "TLS busy";
    gateway::log_warn("tls_refused")
        .field("conn", session_.id)
        .field("H", session_.host_for_log())
        .field("mode", implicit ? "implicit" : "starttls")
        .field("reason", "max_handshakes_per_worker");
    co_return Flow::stop;  // nothing can be said in clear any more
  }
  if (!tls.ok) {
    end_reason_ = tls.timed_out ? "TLS handshake timeout" : "TLS handshake failed";
    out_.clear();  // nothing more can be said in clear after the 220
    gateway::log_info("tls_failed")
        .field("conn", session_.id)
        .field("H", session_.host_for_log())
        .field("mode", implicit ? "implicit" : "starttls")
        .field("error", tls.error);
    co_return Flow::stop;
  }
  tls_ = std::move(stream);
  server_.tls_started(tls.version, tls.cipher_for_log());
  note_client_certificate(tls.peer);
  gateway::log_info("tls")
      .field("conn", session_.id)
      .field("H", session_.host_for_log())
      .field("mode", implicit ? "implicit" : "starttls")
      .field("version", tls.version)
      .field("cipher", tls.cipher_for_log())
      .field("sni", tls.notes.sni)
      .field("resumption", tls.resumption_bits())
      .field("ocsp", tls.notes.ocsp_requested ? "requested" : "")
      .field("client_cert", !tls.peer.presented ? std::string() : tls.peer.verified ? "verified" : "unverified")
      .field("client_subject", tls.peer.subject)
      .field("client_cert_error", tls.peer.error);
  co_return Flow::go_on;
}

// A verified client certificate whose name is listed grants relaying, like
// smtp.trusted_networks (docs/tls.md, "Client certificates"). A resumed
// session carries no certificate, so it has none of this.
void Connection::note_client_certificate(const tls::PeerCertificate& peer) {
  session_.tls_client_verified = peer.presented && peer.verified;
  session_.tls_client_name = peer.names.empty() ? std::string() : peer.names.front();
  session_.tls_client_relay = false;
  if (session_.tls_client_verified) {
    const auto& allowed = cfg_.tls.client_cert_relay_names;
    session_.tls_client_relay = allowed.empty();
    for (const auto& n : peer.names)
      for (const auto& a : allowed)
        if (n == a) session_.tls_client_relay = true;
  }
  server_.evaluate_permissions();
}

void Connection::note_reset_after_quit() {
  if (!cfg_.tls.log_protocol_details || reset_noted_) return;
  reset_noted_ = true;
  gateway::log_debug("protocol_detail")
      .field("conn", session_.id)
      .field("H", session_.host_for_log())
      .field("detail", "connection reset by the client after QUIT on TLS");
}

}  // namespace sluice::protocol
