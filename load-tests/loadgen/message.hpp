// message.hpp — the bytes every transaction sends, built once per run: the
// envelope commands and a message of exactly --size bytes (headers, then
// 76-character lines; no line starts with '.', so no dot-stuffing).
#pragma once
#include <string>
#include <vector>

#include "load-tests/loadgen/options.hpp"

namespace sluice::loadgen {

struct MessageTemplate {
  std::string mail;        // "MAIL FROM:<...>\r\n"
  std::string rcpts;       // every "RCPT TO:<...>\r\n"
  std::vector<std::string> rcpt_lines;  // the same, one per recipient (plain mode)
  std::string body;        // the message, ending in CRLF
  std::string data_group;  // mail + rcpts + "DATA\r\n" (pipelined modes)
  std::string body_dot;    // body + ".\r\n"
  std::string bdat;        // BDAT command(s) and chunks, the last one LAST
  unsigned bdat_replies = 0;  // one reply per BDAT command
};

MessageTemplate build_message(const Options& options);

}  // namespace sluice::loadgen
