// dmarc_history.hpp — the DMARC history file (the seeds' dmarc_history_file):
// one record per judged message in the format OpenDMARC's opendmarc-import
// reads ("key value" lines starting with "job"), so its import, expire and
// report tools can build aggregate (rua) reports from it.
//
// Writing never blocks a worker: records go into a bounded queue that one
// thread appends to the file; when the queue is full the record is dropped
// and counted (a history file is statistics, never worth delaying mail).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "filters/filter.hpp"

namespace sluice::filters {

struct DmarcHistoryFacts {
  std::string job;          // our queue id
  std::string reporter;     // our host name
  std::int64_t received = 0;
  std::string client_ip;
  std::string mail_from_domain;
  enum class Action { reject, accept, quarantine } action = Action::accept;  // what we did
};

// The record for one message (empty when DMARC did not evaluate it).
std::string dmarc_history_record(const FilterResults& results, const DmarcHistoryFacts& facts);

class DmarcHistoryWriter {
 public:
  static constexpr std::size_t kMaxQueued = 10000;
  explicit DmarcHistoryWriter(std::string path);
  ~DmarcHistoryWriter();  // writes what is queued, then stops
  DmarcHistoryWriter(const DmarcHistoryWriter&) = delete;
  DmarcHistoryWriter& operator=(const DmarcHistoryWriter&) = delete;

  void append(std::string record);  // any thread; never blocks on I/O
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }
  void flush();  // waits until everything queued so far is written (tests, shutdown)

 private:
  void run();
  std::string path_;
  std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::deque<std::string> queue_;
  bool stopping_ = false, writing_ = false;
  std::atomic<std::uint64_t> dropped_{0}, write_errors_{0};
  std::thread thread_;
};

// The process's writer (set by the gateway at start when the config names a
// file), or nullptr.
DmarcHistoryWriter* dmarc_history();
void set_dmarc_history(DmarcHistoryWriter* writer);

}  // namespace sluice::filters
