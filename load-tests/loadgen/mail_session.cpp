#include "load-tests/loadgen/mail_session.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <exception>

#include "load-tests/loadgen/smtp_stream.hpp"

namespace sluice::loadgen {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

namespace {

// Error kinds: "<step>_<outcome>" for I/O ("rcpt_timeout", "banner_closed"),
// "<step>_<class>xx" for an unexpected reply ("rcpt_4xx").
void io_error(Stats& stats, const char* step, Outcome o) {
  stats.error(std::string(step) + "_" + outcome_name(o));
}

bool expect(Stats& stats, const char* step, Outcome o, const Reply& r, int code) {
  if (o != Outcome::ok) {
    io_error(stats, step, o);
    return false;
  }
  if (r.code != code) {
    stats.error(std::string(step) + "_" + std::to_string(r.code / 100) + "xx");
    return false;
  }
  return true;
}

// MAIL's, each RCPT's and DATA's replies (or BDAT's), read in order.
asio::awaitable<bool> read_envelope_replies(RunContext& ctx, SmtpStream& s, bool bdat) {
  Reply r;
  Outcome o = co_await s.read_reply(r);
  if (!expect(ctx.stats, "mail", o, r, 250)) co_return false;
  for (unsigned i = 0; i < ctx.options.recipients; ++i) {
    o = co_await s.read_reply(r);
    if (!expect(ctx.stats, "rcpt", o, r, 250)) co_return false;
  }
  if (bdat) co_return true;
  o = co_await s.read_reply(r);
  co_return expect(ctx.stats, "data", o, r, 354);
}

// The replies to a plain client's envelope: one command, one reply.
asio::awaitable<bool> send_envelope_plain(RunContext& ctx, SmtpStream& s) {
  Reply r;
  Outcome o = co_await s.write(ctx.message.mail);
  if (o == Outcome::ok) o = co_await s.read_reply(r);
  if (!expect(ctx.stats, "mail", o, r, 250)) co_return false;
  for (const std::string& line : ctx.message.rcpt_lines) {
    o = co_await s.write(line);
    if (o == Outcome::ok) o = co_await s.read_reply(r);
    if (!expect(ctx.stats, "rcpt", o, r, 250)) co_return false;
  }
  o = co_await s.write("DATA\r\n");
  if (o == Outcome::ok) o = co_await s.read_reply(r);
  co_return expect(ctx.stats, "data", o, r, 354);
}

// One transaction, from MAIL (already written when `group_sent`: an early
// PIPECONNECT group) to the 250 after the data; `start` is when its clock
// started (the connect, for a connection's first message).
asio::awaitable<bool> transaction(RunContext& ctx, SmtpStream& s, bool group_sent, const clock::time_point& start) {
  const MessageTemplate& m = ctx.message;
  const Mode mode = ctx.options.mode;
  Outcome o = Outcome::ok;
  clock::time_point data_end;
  if (mode == Mode::bdat) {
    if (!group_sent) {
      std::string group = m.mail + m.rcpts + m.bdat;
      o = co_await s.write(group);
    }
    data_end = clock::now();
    if (o != Outcome::ok) {
      io_error(ctx.stats, "bdat", o);
      co_return false;
    }
    ++ctx.stats.messages_sent;
    if (!co_await read_envelope_replies(ctx, s, true)) co_return false;
    Reply r;
    for (unsigned i = 0; i + 1 < m.bdat_replies; ++i) {
      o = co_await s.read_reply(r);
      if (!expect(ctx.stats, "bdat", o, r, 250)) co_return false;
    }
    o = co_await s.read_reply(r);
    if (!expect(ctx.stats, "data_end", o, r, 250)) co_return false;
  } else {
    bool ok = false;
    if (mode == Mode::plain) {
      ok = co_await send_envelope_plain(ctx, s);
    } else {
      if (!group_sent) o = co_await s.write(m.data_group);
      if (o != Outcome::ok) {
        io_error(ctx.stats, "mail", o);
        co_return false;
      }
      ok = co_await read_envelope_replies(ctx, s, false);
    }
    if (!ok) co_return false;
    o = co_await s.write(m.body_dot);
    data_end = clock::now();
    if (o != Outcome::ok) {
      io_error(ctx.stats, "data_end", o);
      co_return false;
    }
    ++ctx.stats.messages_sent;
    Reply r;
    o = co_await s.read_reply(r);
    if (!expect(ctx.stats, "data_end", o, r, 250)) co_return false;
  }
  auto now = clock::now();
  ++ctx.stats.messages_acknowledged;
  ctx.stats.transaction.add(now - start);
  ctx.stats.data_end.add(now - data_end);
  ctx.last_done = now;
  co_return true;
}

// Reads an EHLO reply and remembers whether it offered PIPECONNECT.
asio::awaitable<bool> read_ehlo(RunContext& ctx, SmtpStream& s) {
  Reply r;
  Outcome o = co_await s.read_reply(r);
  if (!expect(ctx.stats, "ehlo", o, r, 250)) co_return false;
  bool offered = r.has_keyword("PIPECONNECT") || r.has_keyword("X_PIPE_CONNECT");
  if (offered) ctx.stats.pipeconnect_advertised = true;
  ctx.server_chunking = r.has_keyword("CHUNKING");
  ctx.server_pipelining = r.has_keyword("PIPELINING");
  ctx.pipeconnect_known = offered;
  co_return true;
}

// The TLS handshake on the connected socket, offering the saved session with
// --resume; counted and timed (from its first flight: after STARTTLS's 220,
// or after the connect for implicit TLS).
asio::awaitable<bool> handshake(RunContext& ctx, SmtpStream& s) {
  WOLFSSL_SESSION* offer = ctx.options.resume ? ctx.saved_session : nullptr;
  if (offer) ++ctx.stats.tls_offered;
  bool resumed = false;
  auto t0 = clock::now();
  Outcome o = co_await s.start_tls(*ctx.tls, offer, resumed);
  if (o != Outcome::ok) {
    io_error(ctx.stats, "tls_handshake", o);
    co_return false;
  }
  ctx.stats.tls_handshake.add(clock::now() - t0);
  ++ctx.stats.tls_handshakes;
  if (resumed) ++ctx.stats.tls_resumed;
  co_return true;
}

asio::awaitable<bool> start_tls(RunContext& ctx, SmtpStream& s) {
  Reply r;
  Outcome o = co_await s.read_reply(r);
  if (!expect(ctx.stats, "starttls", o, r, 220)) co_return false;
  co_return co_await handshake(ctx, s);
}

// QUIT and its 221. A TLS 1.3 ticket arrives after the handshake, so by the
// time the 221 is read it has been too: the session is saved after it, from
// full handshakes only. A returning sender keeps offering what its last full
// handshake gave it; and in the STARTTLS benchmark against Postfix (OpenSSL
// 3.0), offering a TLS 1.3 session saved after a resumed handshake failed the
// next handshake on our (wolfSSL 5.5) side every time. Which side is wrong
// was not found; against Sluice the same chain resumes.
asio::awaitable<bool> quit(RunContext& ctx, SmtpStream& s) {
  Outcome o = co_await s.write("QUIT\r\n");
  Reply r;
  if (o == Outcome::ok) o = co_await s.read_reply(r);
  if (o != Outcome::ok || r.code != 221) {
    ctx.stats.error("quit");
    co_return false;
  }
  if (ctx.options.resume && !s.tls_resumed()) ctx.save_session(s.session());
  co_return true;
}

// One connection: connect, greeting, EHLO (STARTTLS, EHLO), then
// --per-connection transactions and QUIT. The first message is already claimed.
asio::awaitable<void> one_connection(RunContext& ctx, SmtpStream& s) {
  const Options& opt = ctx.options;
  const std::string ehlo = "EHLO " + opt.helo + "\r\n";
  auto t0 = clock::now();
  auto from = ctx.sources.for_connection(ctx.next_connection++);
  Outcome o = co_await s.connect(ctx.target, from);
  if (o != Outcome::ok) {
    ctx.stats.error(o == Outcome::timeout ? "connect_timeout" : "connect_failed");
    co_return;
  }
  ++ctx.stats.connections_opened;
  if (opt.implicit_tls && !co_await handshake(ctx, s)) co_return;

  // PIPECONNECT: EHLO and what follows it go out before the banner when an
  // earlier EHLO reply offered the keyword (or when forced).
  const bool early = opt.mode == Mode::pipeconnect && (opt.force_pipeconnect || ctx.pipeconnect_known);
  bool group_sent = false;
  if (early) {
    std::string first = ehlo + (opt.starttls ? std::string("STARTTLS\r\n") : ctx.message.data_group);
    group_sent = !opt.starttls;
    ++ctx.stats.early_sessions;
    o = co_await s.write(first);
    if (o != Outcome::ok) {
      io_error(ctx.stats, "ehlo", o);
      co_return;
    }
  }
  Reply r;
  o = co_await s.read_reply(r);
  if (o == Outcome::ok) ctx.stats.connect_banner.add(clock::now() - t0);
  if (!expect(ctx.stats, "banner", o, r, 220)) co_return;
  if (!early) {
    o = co_await s.write(ehlo);
    if (o != Outcome::ok) {
      io_error(ctx.stats, "ehlo", o);
      co_return;
    }
  }
  if (!co_await read_ehlo(ctx, s)) co_return;
  if (opt.mode == Mode::handshake) {
    // Handshake mode measures the TLS setup alone: STARTTLS if asked, QUIT.
    if (opt.starttls) {
      o = co_await s.write("STARTTLS\r\n");
      if (o != Outcome::ok) {
        io_error(ctx.stats, "starttls", o);
        co_return;
      }
      if (!co_await start_tls(ctx, s)) co_return;
    }
    if (!co_await quit(ctx, s)) co_return;
    ++ctx.stats.sessions_completed;
    ctx.last_done = clock::now();
    co_return;
  }
  // Commands the server did not offer would only measure its errors: one
  // error, and the run ends (a load test of what the server cannot do).
  if (opt.mode == Mode::bdat && !ctx.server_chunking) {
    ctx.stats.error("ehlo_no_chunking");
    ctx.give_up = true;
    co_return;
  }
  if (opt.mode != Mode::plain && !ctx.server_pipelining) {
    ctx.stats.error("ehlo_no_pipelining");
    ctx.give_up = true;
    co_return;
  }

  if (opt.starttls) {
    if (!early) {
      o = co_await s.write("STARTTLS\r\n");
      if (o != Outcome::ok) {
        io_error(ctx.stats, "starttls", o);
        co_return;
      }
    }
    if (!co_await start_tls(ctx, s)) co_return;
    // After TLS, early pipelining may again send the first group with EHLO.
    std::string again = ehlo;
    if (early) {
      again += ctx.message.data_group;
      group_sent = opt.mode != Mode::bdat;
    }
    o = co_await s.write(again);
    if (o != Outcome::ok) {
      io_error(ctx.stats, "ehlo", o);
      co_return;
    }
    if (!co_await read_ehlo(ctx, s)) co_return;
  }

  for (unsigned i = 0;; ++i) {
    auto start = i == 0 ? t0 : clock::now();
    if (!co_await transaction(ctx, s, group_sent, start)) co_return;
    group_sent = false;
    if (i + 1 >= opt.per_connection || !ctx.claim_message()) break;
  }
  co_await quit(ctx, s);
}

}  // namespace

asio::awaitable<void> mail_worker(RunContext& ctx) {
  auto ex = co_await asio::this_coro::executor;
  const auto timeout = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(ctx.options.timeout_s));
  while (ctx.claim_message()) {
    SmtpStream s(ex, timeout);
    auto session = one_connection(ctx, s);
    auto dog = s.watchdog();
    auto either = std::move(session) || std::move(dog);
    try {
      co_await std::move(either);
    } catch (const std::exception&) {
      // The watchdog won and cancelled the session mid-step: already counted
      // as a timeout by the step that failed, or by nobody if it was between
      // steps.
    }
    s.close();
  }
}

}  // namespace sluice::loadgen
