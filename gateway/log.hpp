// log.hpp — one line per event on stdout, logfmt (default) or JSON.
//
//   LogLine(LogLevel::info, "accepted").field("id", id).field("H", host).emit();
//
// Field names follow Exim's habits where operators know them (H= host,
// P= protocol, S= size, L= pipelining mark, id=). Values are sanitised:
// control characters and quotes never reach the log raw (untrusted input is
// escaped, see protocol::sanitize_for_log). A line is written with one
// write(2), so lines from several workers never interleave.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/config.hpp"

namespace sluice::gateway {

void set_log_options(LogFormat format, LogLevel level);
bool log_enabled(LogLevel level);

class LogLine {
 public:
  LogLine(LogLevel level, std::string_view event);
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  ~LogLine();  // emits if emit() was not called

  LogLine& field(std::string_view key, std::string_view value);  // empty values are left out
  LogLine& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  LogLine& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
  LogLine& field(std::string_view key, std::int64_t value);
  LogLine& field(std::string_view key, std::uint64_t value);
  LogLine& field(std::string_view key, int value) { return field(key, std::int64_t{value}); }
  LogLine& field(std::string_view key, unsigned value) { return field(key, std::uint64_t{value}); }
  LogLine& field(std::string_view key, bool value) { return field(key, value ? "yes" : "no"); }
  void emit();

 private:
  bool enabled_;
  bool done_ = false;
  std::string buf_;
};

// `v` in double quotes, escaped as log values are (\xNN for quotes,
// backslashes and anything outside printable ASCII): for messages printed
// outside the log, such as check-config's, that quote operator-given names.
std::string quoted(std::string_view v);

inline LogLine log_debug(std::string_view e) { return LogLine(LogLevel::debug, e); }
inline LogLine log_info(std::string_view e) { return LogLine(LogLevel::info, e); }
inline LogLine log_warn(std::string_view e) { return LogLine(LogLevel::warn, e); }
inline LogLine log_error(std::string_view e) { return LogLine(LogLevel::error, e); }

}  // namespace sluice::gateway
