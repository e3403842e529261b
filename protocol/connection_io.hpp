// connection_io.hpp — socket reads and writes with deadlines, and the drain
// signal, for the SMTP connection coroutine.
//
// Boost 1.81 has no cancel_after: every wait is bounded by the connection's
// watchdog (io_deadline.hpp), never by a timer of its own. Results are
// values (IoResult), never exceptions: a closed or reset connection is an
// ordinary outcome.
// Drain: SIGTERM sets ConnectionControl::draining and cancels whatever the
// connection waits for on its socket (a read, a write, a handshake); the
// wait ends as `interrupted` and the connection decides whether to go on (a
// transaction in flight or a reply half written, before the drain
// deadline) or to say 421 4.3.2 and close.
#pragma once
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <span>
#include <string_view>

#include "protocol/io_deadline.hpp"

namespace sluice::protocol {

enum class IoStatus { ok, timeout, closed, interrupted, would_block };

struct IoResult {
  IoStatus status = IoStatus::ok;
  std::size_t bytes = 0;
};

// Shared between a connection and its worker (same thread): the worker sets
// the flags and cancels the socket to wake a pending read.
struct ConnectionControl {
  bool draining = false;
  bool drain_deadline_passed = false;
  boost::asio::ip::tcp::socket* socket = nullptr;
};

// `deadline`: the connection's (io_deadline.hpp), whose watchdog cancels
// the read when `timeout` has passed.
boost::asio::awaitable<IoResult> read_some(boost::asio::ip::tcp::socket& sock, std::span<char> buf,
                                           IoDeadline& deadline, std::chrono::steady_clock::duration timeout);
// read_available: a non-blocking read of what is already there
// (would_block when nothing is). With it the connection reads without a
// deadline or timer whenever data is waiting, and waits (read_some, with its
// deadline) into a small fixed buffer only when idle, which keeps idle
// sessions cheap. The socket must be non-blocking.
IoResult read_available(boost::asio::ip::tcp::socket& sock, std::span<char> buf);
// Writes directly while the kernel takes the bytes (replies are small); the
// deadline is armed only when the rest must wait.
boost::asio::awaitable<IoResult> write_all(boost::asio::ip::tcp::socket& sock, std::string_view data,
                                           IoDeadline& deadline, std::chrono::steady_clock::duration timeout);

}  // namespace sluice::protocol
