#include "protocol/connection_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace sluice::protocol {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

namespace {
IoResult classify(const boost::system::error_code& ec, std::size_t n) {
  if (!ec) return {IoStatus::ok, n};
  if (ec == asio::error::operation_aborted) return {IoStatus::interrupted, n};
  return {IoStatus::closed, n};
}
}  // namespace

asio::awaitable<IoResult> read_some(asio::ip::tcp::socket& sock, std::span<char> buf, ReadDeadline& deadline,
                                    std::chrono::steady_clock::duration timeout) {
  deadline.arm(timeout);
  // Named operands: no non-trivial temporaries in a co_await expression (GCC 12, see blocking_pool.hpp).
  auto read = sock.async_read_some(asio::buffer(buf.data(), buf.size()), kAsTuple);
  auto [ec, n] = co_await std::move(read);
  const bool expired = deadline.expired();
  deadline.disarm();
  // Aborted: by the watchdog at the deadline, or else by the drain.
  if (ec == asio::error::operation_aborted && expired) co_return IoResult{IoStatus::timeout, 0};
  co_return classify(ec, n);
}

IoResult read_available(asio::ip::tcp::socket& sock, std::span<char> buf) {
  boost::system::error_code ec;
  std::size_t n = sock.read_some(asio::buffer(buf.data(), buf.size()), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return {IoStatus::would_block, 0};
  if (ec) return {IoStatus::closed, 0};  // EOF or reset
  return {IoStatus::ok, n};
}

asio::awaitable<IoResult> write_all(asio::ip::tcp::socket& sock, std::string_view data,
                                    std::chrono::steady_clock::duration timeout) {
  // Replies are small and the socket buffer is almost never full: write
  // directly (the socket is non-blocking) and set up a deadline only for what
  // the kernel would not take now.
  std::size_t done = 0;
  for (;;) {
    boost::system::error_code ec;
    done += sock.write_some(asio::buffer(data.data() + done, data.size() - done), ec);
    if (done == data.size()) co_return IoResult{IoStatus::ok, done};
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec && ec != asio::error::interrupted) co_return classify(ec, done);
  }
  data.remove_prefix(done);
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto write = asio::async_write(sock, asio::buffer(data.data(), data.size()), kAsTuple);
  auto expiry = timer.async_wait(kAsTuple);
  auto either = std::move(write) || std::move(expiry);
  auto result = co_await std::move(either);
  if (result.index() == 1) co_return IoResult{IoStatus::timeout, done};
  auto [ec, n] = std::get<0>(result);
  co_return classify(ec, done + n);
}

}  // namespace sluice::protocol
