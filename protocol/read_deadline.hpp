// read_deadline.hpp — the deadline of a connection's reads between commands
// (plain, and TLS: TlsStream::read_some), kept by one watchdog per
// connection instead of a timer per read.
//
// Racing every read against its own steady_timer (awaitable_operators
// `||`) costs two coroutine frames, a timer set and cancelled, and a second
// pass through the scheduler per wait: about a fifth of the server's CPU
// per message in lock-step SMTP (docs/benchmarks.md, "Findings for the
// code"). Here a read only writes its deadline (arm(), a store) and the
// watchdog, asleep on one timer for the whole connection, wakes at the
// deadline it last saw, cancels the socket if the read is overdue, or goes
// back to sleep until the later one. Deadlines only move later in steady
// state (each read arms now + the same timeout), so the timer is re-set
// when the watchdog wakes (at most once per timeout) and when a shorter
// deadline is asked for, not per read.
//
// The socket's pending read then ends with operation_aborted and expired()
// says it was the deadline; an abort without it is the drain's
// socket.cancel() (connection_io.hpp). A read that completed as the deadline
// passed keeps its bytes: nothing is dropped, unlike the `||` race. Then the
// watchdog cancelled nothing and sleeps until the next arm(), so a reader
// that waits more than once per arm() (TLS, for the rest of a record) must
// look at expired() before each further wait.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace sluice::protocol {

class ReadDeadline {
 public:
  using clock = std::chrono::steady_clock;
  explicit ReadDeadline(boost::asio::ip::tcp::socket& socket);
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;

  // The read about to start must complete within `timeout`.
  void arm(clock::duration timeout);
  // The read is over: no deadline until the next arm().
  void disarm() { at_ = clock::time_point::max(); }
  // The watchdog cancelled the socket since the last arm().
  bool expired() const { return expired_; }
  // The watchdog: runs beside the connection for its whole life and ends
  // when cancelled (the connection is over). Never throws.
  boost::asio::awaitable<void> watch();

 private:
  boost::asio::ip::tcp::socket& socket_;
  boost::asio::steady_timer timer_;
  clock::time_point at_ = clock::time_point::max();    // the armed read's deadline
  clock::time_point wake_ = clock::time_point::max();  // when the watchdog wakes
  bool expired_ = false;
};

}  // namespace sluice::protocol
