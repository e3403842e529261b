// spool.hpp — where accepted messages go, and the promise behind the 250.
//
// Contract: when MessageWriter::commit() returns no error, the message bytes
// and the envelope are on stable storage (fsync'd, directory entries too), and
// only then may the session say 250. A writer destroyed without a successful
// commit leaves nothing visible: its partial data is removed.
// append() copies the bytes before it suspends; it suspends only while an
// earlier buffer is being written, which bounds a session's memory to about
// two buffers whatever the message size (back-pressure reaches the socket
// because the session does not read while it waits).
// Implementations: file (one file pair per message, storage/file_spool.hpp)
// and discard (benchmarks only: says 250 for data it threw away).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "storage/envelope.hpp"

namespace sluice::storage {

class MessageWriter {
 public:
  virtual ~MessageWriter() = default;
  virtual boost::asio::awaitable<std::error_code> append(std::string_view bytes) = 0;
  virtual boost::asio::awaitable<std::error_code> commit(const Envelope& envelope) = 0;
};

class Spool {
 public:
  virtual ~Spool() = default;
  // Starts a message; nothing touches the disk until the first append.
  virtual std::unique_ptr<MessageWriter> begin(const std::string& id) = 0;
  virtual std::string_view kind() const = 0;
  // For /readyz and the start-up check: can we write a message now?
  virtual bool writable() const = 0;
};

}  // namespace sluice::storage
