// exim_id.hpp — message ids for the queuefile export, in the shape the
// consuming Exim reads (../shared/specs/exim-spool-format.md section 4).
//
//   4.97  "tttttt-ppppppppppp-ssss" (23 characters). Sluice's own queue ids
//         already have this shape (storage/message_id.hpp), so an export
//         keeps the message's id and logs line up across both systems.
//   4.96  "tttttt-pppppp-ss" (16 characters). Exim 4.96 and older reject
//         23-character ids ("malformed message id"), so a fresh id is made.
//
// How 16-character ids stay unique (Exim gets the same guarantee from
// time + pid + a wait for the clock to tick):
//   tttttt  base-62 seconds, never the second the process started in nor an
//           earlier one: a restarted process that got the same pid (pid 1 in
//           a container, always) therefore never repeats a second its
//           predecessor could have used;
//   pppppp  pid * 13542 + (sequence / 3844): 62^6 holds every Linux pid
//           (< 2^22) times 13542;
//   ss      sequence % 3844 (two base-62 digits).
// The sequence counts ids made in this process within the current second,
// under one mutex, so the workers (threads) of one process never collide and
// one process can make 52 million ids a second before it has to wait for the
// next second (it then sleeps: callers run on the blocking pool).
// Not covered: two hosts writing into one shared directory (Exim's
// localhost_number problem); give each host its own directory.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::storage {

enum class EximIdFormat { v4_97, v4_96 };

// "4.97" or "4.96" (the config value `exim_id_format`); nullopt otherwise.
std::optional<EximIdFormat> parse_exim_id_format(std::string_view text);
std::string_view to_string(EximIdFormat format);

// True when `id` has exactly the shape the given Exim version accepts.
bool is_valid_exim_id(std::string_view id, EximIdFormat format);

// Makes 16-character (Exim 4.96) ids; the clock and pid are injectable for
// tests. Thread-safe.
class Exim496IdGenerator {
 public:
  using Clock = std::function<std::int64_t()>;        // unix seconds
  using Sleep = std::function<void(std::int64_t)>;    // until this second
  Exim496IdGenerator(unsigned long pid, Clock clock, Sleep sleep);

  std::string next();

  static constexpr unsigned long long kPerPid = 13542;  // floor(62^6 / 2^22)
  static constexpr unsigned long long kPerSecond = kPerPid * 3844;

 private:
  std::mutex mutex_;
  unsigned long pid_;
  Clock clock_;
  Sleep sleep_;
  std::int64_t second_;            // second of the last id (start: process start)
  unsigned long long sequence_ = 0;  // ids made in second_
};

// The process-wide 4.96 generator (real clock and pid).
std::string make_exim_496_id();

}  // namespace sluice::storage
