#include "load-tests/loadgen/idle_sessions.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <vector>

#include "load-tests/loadgen/smtp_stream.hpp"

namespace sluice::loadgen {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

namespace {

struct IdleRun {
  std::vector<std::unique_ptr<SmtpStream>> conns;
  std::vector<bool> holding;
  std::size_t next = 0;
  std::size_t holders = 0;  // hold() coroutines still running (they use this struct)
  bool stopping = false;
};

// Banner and EHLO on a connection; true when it is ready to be held.
asio::awaitable<bool> greet(RunContext& ctx, SmtpStream& s, std::size_t index) {
  auto t0 = clock::now();
  auto from = ctx.sources.for_connection(index);
  Outcome o = co_await s.connect(ctx.target, from);
  if (o != Outcome::ok) {
    ctx.stats.error(o == Outcome::timeout ? "connect_timeout" : "connect_failed");
    co_return false;
  }
  ++ctx.stats.connections_opened;
  Reply r;
  o = co_await s.read_reply(r);
  if (o != Outcome::ok || r.code != 220) {
    ctx.stats.error(o != Outcome::ok ? std::string("banner_") + outcome_name(o) : std::string("banner_reply"));
    co_return false;
  }
  ctx.stats.connect_banner.add(clock::now() - t0);
  const std::string ehlo = "EHLO " + ctx.options.helo + "\r\n";
  auto t1 = clock::now();
  o = co_await s.write(ehlo);
  if (o == Outcome::ok) o = co_await s.read_reply(r);
  if (o != Outcome::ok || r.code != 250) {
    ctx.stats.error(o != Outcome::ok ? std::string("ehlo_") + outcome_name(o) : std::string("ehlo_reply"));
    co_return false;
  }
  ctx.stats.ehlo.add(clock::now() - t1);
  co_return true;
}

asio::awaitable<void> hold(RunContext& ctx, IdleRun& run, std::size_t index) {
  co_await run.conns[index]->wait_closed();
  if (!run.stopping) {
    ++ctx.stats.idle_closed_by_server;
    run.holding[index] = false;
    run.conns[index]->close();
  }
  --run.holders;
}

asio::awaitable<void> opener(RunContext& ctx, IdleRun& run, const clock::duration& timeout) {
  auto ex = co_await asio::this_coro::executor;
  while (run.next < run.conns.size()) {
    std::size_t index = run.next++;
    run.conns[index] = std::make_unique<SmtpStream>(ex, timeout);
    SmtpStream& s = *run.conns[index];
    auto greeting = greet(ctx, s, index);
    auto dog = s.watchdog();
    auto either = std::move(greeting) || std::move(dog);
    bool ready = false;
    try {
      auto result = co_await std::move(either);
      ready = result.index() == 0 && std::get<0>(result);
    } catch (const std::exception&) {
    }
    if (!ready) {
      s.close();
      continue;
    }
    ++ctx.stats.idle_established;
    run.holding[index] = true;
    ++run.holders;
    auto holder = hold(ctx, run, index);
    asio::co_spawn(ex, std::move(holder), asio::detached);
  }
}

}  // namespace

asio::awaitable<void> run_idle(RunContext& ctx) {
  auto ex = co_await asio::this_coro::executor;
  const auto timeout = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(ctx.options.timeout_s));
  IdleRun run;
  run.conns.resize(ctx.options.connections);
  run.holding.assign(ctx.options.connections, false);
  auto t0 = clock::now();
  // --connect-burst openers share the list: at most that many connects in flight.
  unsigned openers = std::min<std::size_t>(ctx.options.connect_burst, run.conns.size());
  asio::steady_timer all_open(ex, clock::time_point::max());
  unsigned running = openers;
  for (unsigned i = 0; i < openers; ++i) {
    auto one = [&]() -> asio::awaitable<void> {
      co_await opener(ctx, run, timeout);
      if (--running == 0) all_open.cancel();
    };
    asio::co_spawn(ex, one, asio::detached);
  }
  auto opened = co_await all_open.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)opened;  // cancelled by the last opener: that is the signal
  ctx.stats.idle_open_all_s = std::chrono::duration<double>(clock::now() - t0).count();

  asio::steady_timer held(ex, std::chrono::duration_cast<clock::duration>(
                                  std::chrono::duration<double>(ctx.options.duration_s)));
  auto held_done = co_await held.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)held_done;
  run.stopping = true;
  for (std::size_t i = 0; i < run.conns.size(); ++i) {
    if (run.holding[i]) ++ctx.stats.idle_held_at_end;
    if (run.conns[i]) run.conns[i]->close();
  }
  // `run` must outlive every holder: wait until each has seen its socket close.
  asio::steady_timer settle(ex);
  while (run.holders > 0) {
    settle.expires_after(std::chrono::milliseconds(10));
    auto settled = co_await settle.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)settled;
  }
}

}  // namespace sluice::loadgen
