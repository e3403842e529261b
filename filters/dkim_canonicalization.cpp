// dkim_canonicalization.cpp — RFC 6376 3.4.1-3.4.4.
#include "filters/dkim_canonicalization.hpp"

namespace sluice::filters {
namespace {

constexpr bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// 3.4.2: lower-case the name, unfold, collapse WSP runs to one SP, drop WSP
// at the end of the value and around the colon.
std::string relaxed_header(std::string_view raw) {
  const std::size_t colon = raw.find(':');
  std::string out;
  out.reserve(raw.size() + 2);
  std::string_view name = colon == std::string_view::npos ? raw : raw.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  for (char c : name) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  if (colon == std::string_view::npos) {
    out += "\r\n";
    return out;
  }
  out.push_back(':');
  bool pending_space = false;
  bool started = false;  // WSP right after the colon is dropped
  for (char c : raw.substr(colon + 1)) {
    if (c == '\r' || c == '\n') continue;  // unfolding: the fold's CRLF goes, its WSP stays
    if (is_wsp(c)) {
      pending_space = started;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    started = true;
    out.push_back(c);
  }
  out += "\r\n";
  return out;
}

}  // namespace

std::string canonical_header(std::string_view raw_field, DkimCanon canon) {
  if (canon == DkimCanon::relaxed) return relaxed_header(raw_field);
  std::string out(raw_field);
  out += "\r\n";
  return out;
}

std::string canonical_header(const HeaderField& field, DkimCanon canon) {
  return canonical_header(field.raw, canon);
}

void BodyCanonicalizer::write(std::string_view piece) {
  for (char c : piece) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        end_of_line();
        continue;
      }
      content('\r');  // a lone CR is ordinary text
    }
    if (c == '\r') {
      pending_cr_ = true;
      continue;
    }
    if (canon_ == DkimCanon::relaxed && is_wsp(c)) {
      pending_wsp_ = true;  // 3.4.4: runs become one SP, trailing ones go
      continue;
    }
    content(c);
  }
  flush();
}

void BodyCanonicalizer::content(char c) {
  if (at_line_start_) {
    // The empty lines held back were not the body's last after all.
    for (; empty_lines_ > 0; --empty_lines_) out("\r\n");
    at_line_start_ = false;
  }
  if (pending_wsp_) {
    out(' ');
    pending_wsp_ = false;
  }
  out(c);
}

void BodyCanonicalizer::end_of_line() {
  pending_wsp_ = false;  // relaxed: whitespace at the end of a line is ignored
  if (at_line_start_) {
    ++empty_lines_;  // 3.4.3 / 3.4.4: empty lines at the end are ignored
    return;
  }
  out("\r\n");
  at_line_start_ = true;
}

void BodyCanonicalizer::finish() {
  if (pending_cr_) {
    pending_cr_ = false;
    content('\r');
  }
  pending_wsp_ = false;
  // A last line without CRLF gets one (3.4.3; 3.4.4 as corrected by erratum 3830).
  if (!at_line_start_) {
    out("\r\n");
    at_line_start_ = true;
  }
  // 3.4.3: the simple canonical form of an empty body is one CRLF; relaxed
  // leaves it empty.
  if (canon_ == DkimCanon::simple && !any_output_) out("\r\n");
  empty_lines_ = 0;
  flush();
}

void BodyCanonicalizer::out(std::string_view bytes) {
  for (char c : bytes) out(c);
}

void BodyCanonicalizer::out(char c) {
  any_output_ = true;
  if (used_ == sizeof buffer_) flush();
  buffer_[used_++] = c;
}

void BodyCanonicalizer::flush() {
  if (used_ == 0) return;
  sink_.consume(std::string_view(buffer_, used_));
  used_ = 0;
}

}  // namespace sluice::filters
