#include "load-tests/loadgen/message.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace sluice::loadgen {

MessageTemplate build_message(const Options& o) {
  MessageTemplate m;
  m.mail = "MAIL FROM:<" + o.from + ">\r\n";
  for (unsigned i = 0; i < o.recipients; ++i) {
    m.rcpt_lines.push_back("RCPT TO:<rcpt" + std::to_string(i) + "@" + o.rcpt_domain + ">\r\n");
    m.rcpts += m.rcpt_lines.back();
  }
  m.data_group = m.mail + m.rcpts + "DATA\r\n";

  if (!o.message_file.empty()) {
    // The file as it is (a signed message must arrive byte for byte), its
    // line ends made CRLF, dot-stuffed for DATA.
    std::ifstream in(o.message_file, std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string line;
    for (char c : raw) {
      if (c == '\r') continue;
      if (c == '\n') {
        m.body += line + "\r\n";
        line.clear();
      } else {
        line += c;
      }
    }
    if (!line.empty()) m.body += line + "\r\n";
    std::string stuffed;
    for (std::size_t at = 0; at < m.body.size();) {
      const auto end = m.body.find("\r\n", at) + 2;
      if (m.body[at] == '.') stuffed += '.';
      stuffed.append(m.body, at, end - at);
      at = end;
    }
    m.body_dot = stuffed + ".\r\n";
    m.bdat = "BDAT " + std::to_string(m.body.size()) + " LAST\r\n" + m.body;
    m.bdat_replies = 1;
    return m;
  }
  m.body = "From: <" + o.from + ">\r\nTo: <rcpt0@" + o.rcpt_domain + ">\r\nSubject: sluice-loadgen " +
           std::to_string(o.size) + " bytes\r\n\r\n";
  // 76-byte lines while at least 78 bytes remain, then one line of what is
  // left (2..77 bytes, CRLF included): exactly --size bytes, no bare CR or LF.
  // A --size smaller than the headers gives just the headers.
  auto remaining = [&] { return o.size > m.body.size() ? o.size - m.body.size() : 0; };
  while (remaining() >= 78) m.body += std::string(74, 'x') + "\r\n";
  if (remaining() >= 2) m.body += std::string(remaining() - 2, 'x') + "\r\n";
  m.body_dot = m.body + ".\r\n";

  std::size_t chunk = o.chunk ? o.chunk : m.body.size();
  for (std::size_t at = 0; at < m.body.size() || m.bdat_replies == 0; at += chunk) {
    std::size_t n = std::min(chunk, m.body.size() - at);
    bool last = at + n >= m.body.size();
    m.bdat += "BDAT " + std::to_string(n) + (last ? " LAST\r\n" : "\r\n");
    m.bdat.append(m.body, at, n);
    ++m.bdat_replies;
    if (last) break;
  }
  return m;
}

}  // namespace sluice::loadgen
