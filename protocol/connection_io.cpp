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

asio::awaitable<IoResult> read_some(asio::ip::tcp::socket& sock, std::span<char> buf,
                                    std::chrono::steady_clock::duration timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto result = co_await (sock.async_read_some(asio::buffer(buf.data(), buf.size()), kAsTuple) ||
                          timer.async_wait(kAsTuple));
  if (result.index() == 1) co_return IoResult{IoStatus::timeout, 0};
  auto [ec, n] = std::get<0>(result);
  co_return classify(ec, n);
}

asio::awaitable<IoResult> write_all(asio::ip::tcp::socket& sock, std::string_view data,
                                    std::chrono::steady_clock::duration timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto result = co_await (asio::async_write(sock, asio::buffer(data.data(), data.size()), kAsTuple) ||
                          timer.async_wait(kAsTuple));
  if (result.index() == 1) co_return IoResult{IoStatus::timeout, 0};
  auto [ec, n] = std::get<0>(result);
  co_return classify(ec, n);
}

}  // namespace sluice::protocol
