#include "storage/exim_message_converter.hpp"

#include <array>
#include <cstdio>

namespace sluice::storage {
namespace {

constexpr std::size_t kBodyFlush = 64 * 1024;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// RFC 5322 2.2: a field name is printable ASCII except ':'; Exim also allows
// white space between the name and the colon, so do we.
bool starts_header_field(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] > ' ' && line[i] < 127 && line[i] != ':') ++i;
  if (i == 0) return false;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i < line.size() && line[i] == ':';
}

}  // namespace

char exim_header_type(std::string_view field) {
  std::size_t end = field.find(':');
  if (end == std::string_view::npos) return ' ';
  std::string_view name = field.substr(0, end);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  static constexpr std::array<std::pair<std::string_view, char>, 8> kTypes{{
      {"received", 'P'}, {"from", 'F'}, {"to", 'T'}, {"cc", 'C'},
      {"bcc", 'B'}, {"message-id", 'I'}, {"reply-to", 'R'}, {"sender", 'S'},
  }};
  for (const auto& [n, t] : kTypes)
    if (iequals(name, n)) return t;
  return ' ';
}

void append_exim_header_record(std::string& out, char type, std::string_view text) {
  char prefix[32];
  const int n = std::snprintf(prefix, sizeof prefix, "%03zu%c ", text.size(), type);
  out.append(prefix, static_cast<std::size_t>(n));
  out.append(text);
}

EximMessageConverter::EximMessageConverter(ChunkSink body_out, std::size_t max_header_bytes)
    : body_out_(std::move(body_out)), max_header_bytes_(max_header_bytes) {}

void EximMessageConverter::note_line_length(std::uint64_t n) {
  if (n > counts_.max_line_length) counts_.max_line_length = n;
}

std::error_code EximMessageConverter::feed(std::string_view chunk) {
  while (in_headers_ && !chunk.empty()) {
    const std::size_t lf = chunk.find('\n');
    const std::size_t take = lf == std::string_view::npos ? chunk.size() : lf;
    if (line_.size() + field_.size() + records_.size() + take > max_header_bytes_)
      return std::make_error_code(std::errc::message_size);
    line_.append(chunk.substr(0, take));
    if (lf == std::string_view::npos) return {};
    chunk.remove_prefix(lf + 1);
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto ec = header_line(line)) return ec;
    line_.clear();
  }
  return body_bytes(chunk);
}

std::error_code EximMessageConverter::header_line(std::string_view line) {
  if (line.empty()) {  // the separator: stored nowhere
    in_headers_ = false;
    return end_field();
  }
  note_line_length(line.size());
  const bool continuation = (line[0] == ' ' || line[0] == '\t') && !field_.empty();
  if (continuation || starts_header_field(line)) {
    if (!continuation)
      if (auto ec = end_field()) return ec;
    field_.append(line);
    field_ += '\n';
    return {};
  }
  // Not a header line: the body starts here, without a separator.
  in_headers_ = false;
  if (auto ec = end_field()) return ec;
  body_line_length_ = 0;
  std::string copy(line_);  // line_ is cleared by the caller afterwards
  copy += '\n';
  // The line was already measured above; body_bytes measures it again, same value.
  return body_bytes(copy);
}

std::error_code EximMessageConverter::end_field() {
  if (field_.empty()) return {};
  append_exim_header_record(records_, exim_header_type(field_), field_);
  counts_.header_bytes += field_.size();
  field_.clear();
  return {};
}

std::error_code EximMessageConverter::put_body(char c) {
  body_buffer_ += c;
  last_body_char_ = c;
  ++counts_.body_bytes;
  if (c == '\n') {
    ++counts_.body_lines;
    note_line_length(body_line_length_);
    body_line_length_ = 0;
  } else {
    ++body_line_length_;
    if (c == '\0') ++counts_.body_zeros;
  }
  return body_buffer_.size() >= kBodyFlush ? flush_body() : std::error_code{};
}

std::error_code EximMessageConverter::body_bytes(std::string_view bytes) {
  for (char c : bytes) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c != '\n')
        if (auto ec = put_body('\r')) return ec;
    }
    if (c == '\r') {
      pending_cr_ = true;
      continue;
    }
    if (auto ec = put_body(c)) return ec;
  }
  return {};
}

std::error_code EximMessageConverter::flush_body() {
  if (body_buffer_.empty()) return {};
  std::error_code ec = body_out_(body_buffer_);
  body_buffer_.clear();
  return ec;
}

std::error_code EximMessageConverter::finish() {
  if (in_headers_) {
    // No separator: the whole message is header (a last line without its
    // line end still counts as one).
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty())
      if (auto ec = header_line(line)) return ec;
    line_.clear();
    if (in_headers_)
      if (auto ec = end_field()) return ec;
  }
  if (pending_cr_) {
    pending_cr_ = false;
    if (auto ec = put_body('\r')) return ec;
  }
  if (counts_.body_bytes > 0 && last_body_char_ != '\n')
    if (auto ec = put_body('\n')) return ec;
  return flush_body();
}

}  // namespace sluice::storage
