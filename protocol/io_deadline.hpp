// io_deadline.hpp — the deadline of whatever a connection is waiting for on
// its socket (a read between commands, plain or TLS; a TLS handshake; a
// write the kernel would not take at once; the wait for a TLS client's
// close), kept by one watchdog per connection instead of a timer per wait.
// A connection waits for one thing at a time (its session is one
// coroutine), so one deadline is enough.
//
// Racing every read against its own steady_timer (awaitable_operators
// `||`) costs two coroutine frames, a timer set and cancelled, and a second
// pass through the scheduler per wait: about a fifth of the server's CPU
// per message in lock-step SMTP (docs/benchmarks.md, "Findings for the
// code"). Here an operation only writes its deadline (arm(), a store) and
// the watchdog, asleep on one timer for the whole connection, wakes at the
// deadline it last saw, cancels the socket if the operation is overdue, or
// goes back to sleep until the later one. Deadlines mostly move later (each
// read arms now + the same timeout), so the timer is re-set when the
// watchdog wakes (at most once per timeout) and when a shorter deadline is
// asked for, not per wait.
//
// The socket's pending operation then ends with operation_aborted and
// expired() says it was the deadline; an abort without it is the drain's
// socket.cancel() (connection_io.hpp). A read that completed as the
// deadline passed keeps its bytes: nothing is dropped, unlike the `||` race.
// Then the watchdog cancelled nothing and sleeps until the next arm(), so an
// operation that waits more than once per arm() (a TLS handshake, the rest
// of a TLS record, a write in several parts) must look at expired() before
// each further wait.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace sluice::protocol {

class IoDeadline {
 public:
  using clock = std::chrono::steady_clock;
  explicit IoDeadline(boost::asio::ip::tcp::socket& socket);
  IoDeadline(const IoDeadline&) = delete;
  IoDeadline& operator=(const IoDeadline&) = delete;

  // The operation about to start must complete within `timeout`.
  void arm(clock::duration timeout);
  // The operation is over: no deadline until the next arm().
  void disarm() { at_ = clock::time_point::max(); }
  // The watchdog cancelled the socket since the last arm().
  bool expired() const { return expired_; }
  // arm() for a scope: disarmed however the operation ends (an operation
  // with several exits, such as a handshake).
  class Armed {
   public:
    Armed(IoDeadline& deadline, clock::duration timeout) : deadline_(deadline) { deadline_.arm(timeout); }
    ~Armed() { deadline_.disarm(); }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;

   private:
    IoDeadline& deadline_;
  };
  // The watchdog: runs beside the connection for its whole life and ends
  // when cancelled (the connection is over). Never throws.
  boost::asio::awaitable<void> watch();

 private:
  boost::asio::ip::tcp::socket& socket_;
  boost::asio::steady_timer timer_;
  clock::time_point at_ = clock::time_point::max();    // the armed operation's deadline
  clock::time_point wake_ = clock::time_point::max();  // when the watchdog wakes
  bool expired_ = false;
};

}  // namespace sluice::protocol
