#include "gateway/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace sluice::gateway {
namespace {

std::atomic<LogFormat> g_format{LogFormat::logfmt};
std::atomic<LogLevel> g_level{LogLevel::info};

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

// Escapes for both formats: quotes, backslashes and anything outside
// printable ASCII become \xNN (JSON gets \u00NN), so a hostile HELO cannot
// forge a second log line or break the JSON.
void append_escaped(std::string& out, std::string_view v, bool json) {
  for (unsigned char c : v) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char tmp[8];
      std::snprintf(tmp, sizeof tmp, json ? "\\u%04x" : "\\x%02x", c);
      out += tmp;
    }
  }
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) return true;
  return false;
}

void append_timestamp(std::string& out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out += buf;
}

}  // namespace

std::string quoted(std::string_view v) {
  std::string out = "\"";
  append_escaped(out, v, false);
  out += '"';
  return out;
}

void set_log_options(LogFormat format, LogLevel level) {
  g_format.store(format);
  g_level.store(level);
}

bool log_enabled(LogLevel level) { return static_cast<int>(level) >= static_cast<int>(g_level.load()); }

LogLine::LogLine(LogLevel level, std::string_view event) : enabled_(log_enabled(level)) {
  if (!enabled_) return;
  buf_.reserve(256);
  if (g_format.load() == LogFormat::json) {
    buf_ += "{\"ts\":\"";
    append_timestamp(buf_);
    buf_ += "\",\"level\":\"";
    buf_ += level_name(level);
    buf_ += "\",\"event\":\"";
    append_escaped(buf_, event, true);
    buf_ += '"';
  } else {
    buf_ += "ts=";
    append_timestamp(buf_);
    buf_ += " level=";
    buf_ += level_name(level);
    buf_ += " event=";
    append_escaped(buf_, event, false);
  }
}

LogLine::~LogLine() {
  if (!done_) emit();
}

LogLine& LogLine::field(std::string_view key, std::string_view value) {
  if (!enabled_ || value.empty()) return *this;  // absent, not key=""
  if (g_format.load() == LogFormat::json) {
    buf_ += ",\"";
    append_escaped(buf_, key, true);
    buf_ += "\":\"";
    append_escaped(buf_, value, true);
    buf_ += '"';
  } else {
    buf_ += ' ';
    buf_ += key;
    buf_ += '=';
    const bool quote = needs_quotes(value);
    if (quote) buf_ += '"';
    append_escaped(buf_, value, false);
    if (quote) buf_ += '"';
  }
  return *this;
}

LogLine& LogLine::field(std::string_view key, std::int64_t value) {
  return field(key, std::string_view(std::to_string(value)));
}
LogLine& LogLine::field(std::string_view key, std::uint64_t value) {
  return field(key, std::string_view(std::to_string(value)));
}

void LogLine::emit() {
  if (done_) return;
  done_ = true;
  if (!enabled_) return;
  buf_ += (g_format.load() == LogFormat::json) ? "}\n" : "\n";
  // One write(2) per line: atomic with respect to other writers for lines
  // under PIPE_BUF on pipes, and in practice for regular files and ttys.
  const char* p = buf_.data();
  std::size_t left = buf_.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) break;  // a broken log pipe must not take the gateway down
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace sluice::gateway
