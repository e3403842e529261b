// reply.hpp — an SMTP reply as a value: code, enhanced status code, text.
//
// Every outcome the server tells a client is one of these; handlers return
// them, only the session writes them. RFC 2034/3463: every reply except the
// greeting carries an enhanced status code. Multi-line replies (EHLO, HELP)
// keep their lines in `lines`; `to_wire` renders "250-" continuations.
// Text is ours, never client input echoed raw (see sanitize_for_log).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sluice::protocol {

struct Reply {
  int code = 0;               // 3-digit SMTP code; 0 means "no reply"
  std::string enhanced;       // "2.0.0"; empty for the greeting and EHLO lines
  std::vector<std::string> lines;  // at least one line of text

  Reply() = default;
  Reply(int c, std::string enh, std::string text) : code(c), enhanced(std::move(enh)) {
    lines.push_back(std::move(text));
  }
  bool empty() const { return code == 0; }
  bool positive() const { return code >= 200 && code < 400; }
  bool permanent() const { return code >= 500; }
  bool closes_session() const { return code == 421 || code == 221; }
  // The first line's text, for logs.
  std::string_view text() const { return lines.empty() ? std::string_view{} : lines.front(); }
  // "250-a\r\n250 b\r\n" with the enhanced code in front of each line.
  std::string to_wire() const;
  void append_to(std::string& out) const;
};

// Log-safe copy of untrusted text: printable ASCII kept, everything else as
// \xNN, cut to `max` bytes with "..." appended.
std::string sanitize_for_log(std::string_view in, std::size_t max = 200);

}  // namespace sluice::protocol
