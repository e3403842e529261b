#include "protocol/io_deadline.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sluice::protocol {

namespace asio = boost::asio;

IoDeadline::IoDeadline(asio::ip::tcp::socket& socket) : socket_(socket), timer_(socket.get_executor()) {}

void IoDeadline::arm(clock::duration timeout) {
  at_ = clock::now() + timeout;
  expired_ = false;
  // Asleep until later than this: wake it so it sleeps until this one.
  // (Cancelling a wait that is not there, between a wake and the next
  // sleep, is harmless: the watchdog reads at_ before it sleeps.)
  if (at_ < wake_) {
    wake_ = at_;
    timer_.cancel();
  }
}

asio::awaitable<void> IoDeadline::watch() {
  // Ended by cancellation, which it looks for itself: never an exception.
  co_await asio::this_coro::throw_if_cancelled(false);
  for (;;) {
    wake_ = at_;
    timer_.expires_at(wake_);
    auto wait = timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    auto [ec] = co_await std::move(wait);
    asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return;  // the connection is over
    if (ec == asio::error::operation_aborted) continue;                 // arm() asked for an earlier wake
    if (clock::now() >= at_) {
      expired_ = true;
      at_ = clock::time_point::max();
      boost::system::error_code ignored;
      socket_.cancel(ignored);
    }
  }
}

}  // namespace sluice::protocol
