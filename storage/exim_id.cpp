#include "storage/exim_id.hpp"

#include "storage/message_id.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <thread>

namespace sluice::storage {
namespace {

// Fields of base-62 digits separated by single dashes, with these widths.
bool has_shape(std::string_view id, std::initializer_list<std::size_t> widths) {
  std::size_t pos = 0;
  bool first = true;
  for (std::size_t w : widths) {
    if (!first) {
      if (pos >= id.size() || id[pos] != '-') return false;
      ++pos;
    }
    first = false;
    if (id.size() < pos + w) return false;
    for (std::size_t i = 0; i < w; ++i)
      if (!is_base62(id[pos + i])) return false;
    pos += w;
  }
  return pos == id.size();
}

}  // namespace

std::optional<EximIdFormat> parse_exim_id_format(std::string_view text) {
  if (text == "4.97") return EximIdFormat::v4_97;
  if (text == "4.96") return EximIdFormat::v4_96;
  return std::nullopt;
}

std::string_view to_string(EximIdFormat format) {
  return format == EximIdFormat::v4_96 ? "4.96" : "4.97";
}

bool is_valid_exim_id(std::string_view id, EximIdFormat format) {
  return format == EximIdFormat::v4_96 ? has_shape(id, {6, 6, 2}) : has_shape(id, {6, 11, 4});
}

Exim496IdGenerator::Exim496IdGenerator(unsigned long pid, Clock clock, Sleep sleep)
    : pid_(pid % (1ul << 22)), clock_(std::move(clock)), sleep_(std::move(sleep)) {
  // The start second counts as used up: a predecessor with our pid may have
  // made ids in it (see the header).
  second_ = clock_();
  sequence_ = kPerSecond;
}

std::string Exim496IdGenerator::next() {
  std::lock_guard lock(mutex_);
  std::int64_t now = clock_();
  // A clock that steps back must not reopen a second already used.
  if (now > second_) {
    second_ = now;
    sequence_ = 0;
  }
  while (sequence_ >= kPerSecond) {
    sleep_(second_ + 1);
    now = clock_();
    if (now > second_) {
      second_ = now;
      sequence_ = 0;
    }
  }
  const unsigned long long seq = sequence_++;
  std::string id;
  id.reserve(16);
  put_base62(id, static_cast<unsigned long long>(second_), 6);
  id += '-';
  put_base62(id, pid_ * kPerPid + seq / 3844, 6);
  id += '-';
  put_base62(id, seq % 3844, 2);
  return id;
}

std::string make_exim_496_id() {
  static Exim496IdGenerator generator(
      static_cast<unsigned long>(::getpid()), [] { return static_cast<std::int64_t>(std::time(nullptr)); },
      [](std::int64_t second) {
        // Sleep to the start of `second` (to the real clock's next tick).
        const auto target = std::chrono::system_clock::time_point(std::chrono::seconds(second));
        std::this_thread::sleep_until(target);
      });
  return generator.next();
}

}  // namespace sluice::storage
