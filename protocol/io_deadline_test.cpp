// The connection's deadline (io_deadline.hpp) with connection_io's read_some
// and write_all on a real loopback TCP pair: a read past its deadline is a
// timeout, a read with data in time is not, a shorter deadline after a
// longer one is kept, an abort without the deadline is the drain's, a write
// the client does not take times out and one it takes does not, and the
// watchdog ends when the connection does.
#include "protocol/io_deadline.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "protocol/connection_io.hpp"

namespace sluice::protocol {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

struct Pair {
  asio::io_context io;
  tcp::socket server{io}, client{io};
  Pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
};

// Runs `body` beside the watchdog, as Connection::run() does, and returns
// once both have ended.
void run_with_watchdog(Pair& p, IoDeadline& deadline, std::function<asio::awaitable<void>()> body) {
  auto both = [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    auto session = asio::co_spawn(executor, body(), asio::deferred);
    auto watchdog = asio::co_spawn(executor, deadline.watch(), asio::deferred);
    auto group = asio::experimental::make_parallel_group(std::move(session), std::move(watchdog));
    auto ended = group.async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    co_await std::move(ended);
  };
  asio::co_spawn(p.io, both(), asio::detached);
  p.io.run_for(10s);
  ASSERT_TRUE(p.io.stopped()) << "the watchdog must end with the session";
}

TEST(IoDeadline, AReadPastItsDeadlineTimesOut) {
  Pair p;
  IoDeadline deadline(p.server);
  std::array<char, 16> buf;
  IoResult r{IoStatus::ok, 99};
  const auto t0 = std::chrono::steady_clock::now();
  run_with_watchdog(p, deadline, [&]() -> asio::awaitable<void> {
    r = co_await read_some(p.server, buf, deadline, 100ms);
  });
  EXPECT_EQ(r.status, IoStatus::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
}

TEST(IoDeadline, ReadsInTimeKeepTheirBytesAndLaterDeadlinesMoveOn) {
  Pair p;
  IoDeadline deadline(p.server);
  std::array<char, 16> buf;
  std::vector<IoResult> results;
  asio::steady_timer writer(p.io);
  run_with_watchdog(p, deadline, [&]() -> asio::awaitable<void> {
    // Five reads of 1 s deadlines, each answered after 250 ms: 1.25 s in
    // all, past the first deadline, none of them late (the margin is wide
    // for sanitizer builds on a busy machine).
    for (int i = 0; i < 5; ++i) {
      writer.expires_after(250ms);
      writer.async_wait([&](auto) { asio::write(p.client, asio::buffer("x", 1)); });
      results.push_back(co_await read_some(p.server, buf, deadline, 1s));
    }
  });
  ASSERT_EQ(results.size(), 5u);
  for (const auto& r : results) {
    EXPECT_EQ(r.status, IoStatus::ok);
    EXPECT_EQ(r.bytes, 1u);
  }
}

TEST(IoDeadline, AShorterDeadlineAfterALongerOneIsKept) {
  Pair p;
  IoDeadline deadline(p.server);
  std::array<char, 16> buf;
  IoResult first{}, second{};
  std::chrono::steady_clock::duration waited{};
  run_with_watchdog(p, deadline, [&]() -> asio::awaitable<void> {
    asio::write(p.client, asio::buffer("x", 1));
    first = co_await read_some(p.server, buf, deadline, 60s);  // the watchdog sleeps for a minute
    const auto t0 = std::chrono::steady_clock::now();
    second = co_await read_some(p.server, buf, deadline, 100ms);
    waited = std::chrono::steady_clock::now() - t0;
  });
  EXPECT_EQ(first.status, IoStatus::ok);
  EXPECT_EQ(second.status, IoStatus::timeout);
  EXPECT_LT(waited, 5s) << "the 100 ms deadline waited for the minute-long one";
}

TEST(IoDeadline, AnAbortWithoutTheDeadlineIsTheDrain) {
  Pair p;
  IoDeadline deadline(p.server);
  std::array<char, 16> buf;
  IoResult r{};
  asio::steady_timer drain(p.io);
  run_with_watchdog(p, deadline, [&]() -> asio::awaitable<void> {
    drain.expires_after(50ms);
    drain.async_wait([&](auto) { p.server.cancel(); });  // what the worker does on SIGTERM
    r = co_await read_some(p.server, buf, deadline, 60s);
  });
  EXPECT_EQ(r.status, IoStatus::interrupted);
}

// More than the two sockets' buffers hold on loopback, so write_all must
// wait for the client.
std::string more_than_socket_buffers() { return std::string(32 * 1024 * 1024, 'x'); }

TEST(IoDeadline, AWriteTheClientDoesNotTakeTimesOut) {
  Pair p;
  IoDeadline deadline(p.server);
  p.server.non_blocking(true);  // as accepted sockets are
  const std::string data = more_than_socket_buffers();
  IoResult r{};
  const auto t0 = std::chrono::steady_clock::now();
  run_with_watchdog(p, deadline, [&]() -> asio::awaitable<void> {
    r = co_await write_all(p.server, data, deadline, 200ms);
  });
  EXPECT_EQ(r.status, IoStatus::timeout);
  EXPECT_GT(r.bytes, 0u);
  EXPECT_LT(r.bytes, data.size());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
}

TEST(IoDeadline, AWriteTheClientTakesInTimeCompletesAndLeavesNoDeadline) {
  Pair p;
  IoDeadline deadline(p.server);
  p.server.non_blocking(true);
  const std::string data = more_than_socket_buffers();
  std::string received(data.size(), '\0');
  IoResult r{}, after{};
  bool expired_while_idle = true;
  std::array<char, 16> buf;
  asio::steady_timer later(p.io);
  run_with_watchdog(p, deadline, [&]() -> asio::awaitable<void> {
    // The client reads it all while the server writes.
    asio::async_read(p.client, asio::buffer(received), [](auto, auto) {});
    r = co_await write_all(p.server, data, deadline, 2s);
    // The write's deadline is gone with it: past the time it would have
    // fired, with nothing pending on the socket, the watchdog has not
    // fired, and a read with a longer deadline is not cut at the write's.
    later.expires_after(3s);
    co_await later.async_wait(asio::use_awaitable);
    expired_while_idle = deadline.expired();
    asio::write(p.client, asio::buffer("y", 1));
    after = co_await read_some(p.server, buf, deadline, 10s);
  });
  EXPECT_EQ(r.status, IoStatus::ok);
  EXPECT_EQ(r.bytes, data.size());
  EXPECT_TRUE(received == data);
  EXPECT_FALSE(expired_while_idle) << "the write left its deadline armed";
  EXPECT_EQ(after.status, IoStatus::ok);
}

// write_all ends as `interrupted` with what it wrote; the connection then
// writes the rest unless the drain deadline has passed
// (Connection::stream_write_all, tests/integration/test_signals.py).
TEST(IoDeadline, AWriteAbortedWithoutTheDeadlineIsTheDrain) {
  Pair p;
  IoDeadline deadline(p.server);
  p.server.non_blocking(true);
  const std::string data = more_than_socket_buffers();
  IoResult r{};
  asio::steady_timer drain(p.io);
  run_with_watchdog(p, deadline, [&]() -> asio::awaitable<void> {
    drain.expires_after(50ms);
    drain.async_wait([&](auto) { p.server.cancel(); });
    r = co_await write_all(p.server, data, deadline, 60s);
  });
  EXPECT_EQ(r.status, IoStatus::interrupted);
}

}  // namespace
}  // namespace sluice::protocol
