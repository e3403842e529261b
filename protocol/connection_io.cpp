#include "protocol/connection_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sluice::protocol {

namespace asio = boost::asio;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

namespace {
IoResult classify(const boost::system::error_code& ec, std::size_t n) {
  if (!ec) return {IoStatus::ok, n};
  if (ec == asio::error::operation_aborted) return {IoStatus::interrupted, n};
  return {IoStatus::closed, n};
}
}  // namespace

asio::awaitable<IoResult> read_some(asio::ip::tcp::socket& sock, std::span<char> buf, IoDeadline& deadline,
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

asio::awaitable<IoResult> write_all(asio::ip::tcp::socket& sock, std::string_view data, IoDeadline& deadline,
                                    std::chrono::steady_clock::duration timeout) {
  // Replies are small and the socket buffer is almost never full: write
  // directly (the socket is non-blocking) and arm the deadline only for what
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
  // A write at a time, not async_write: the watchdog may fire while a
  // part's completion is queued, cancelling nothing, and the next part must
  // then not wait (io_deadline.hpp).
  deadline.arm(timeout);
  IoResult result{IoStatus::ok, done};
  while (!data.empty()) {
    if (deadline.expired()) {
      result.status = IoStatus::timeout;
      break;
    }
    auto write = sock.async_write_some(asio::buffer(data.data(), data.size()), kAsTuple);
    auto [ec, n] = co_await std::move(write);
    result.bytes += n;
    data.remove_prefix(n);
    if (ec) {
      result.status = ec == asio::error::operation_aborted && deadline.expired() ? IoStatus::timeout
                                                                                 : classify(ec, n).status;
      break;
    }
  }
  deadline.disarm();
  co_return result;
}

}  // namespace sluice::protocol
