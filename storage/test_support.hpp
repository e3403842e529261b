// test_support.hpp — helpers shared by the storage unit tests (header only,
// never part of sluice_core): a temporary directory per test, a queue record
// to start from, and a way to run a coroutine to its end.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <string>
#include <system_error>

#include "storage/queue_record.hpp"

namespace sluice::storage::testing {

// A fresh directory under gtest's TempDir(), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "sluice-storage-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline QueueRecord sample_record(const std::string& id, std::size_t recipients = 1) {
  QueueRecord r;
  r.envelope.id = id;
  r.envelope.sender = "alice@example.org";
  for (std::size_t i = 0; i < recipients; ++i)
    r.envelope.recipients.push_back({"rcpt" + std::to_string(i) + "@example.net", 0, ""});
  r.envelope.received_at = 1'700'000'000;
  r.envelope.size = 42;
  r.envelope.protocol = "esmtp";
  r.envelope.client_addr = "192.0.2.1";
  r.start_progress();
  return r;
}

// Runs `make()`'s awaitable on io until it finishes; returns its result.
template <typename Result, typename Make>
Result run_on(boost::asio::io_context& io, Make&& make) {
  auto fut = boost::asio::co_spawn(io, make(), boost::asio::use_future);
  io.restart();
  io.run();
  return fut.get();
}

}  // namespace sluice::storage::testing
