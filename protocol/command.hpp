// command.hpp — splits one SMTP command line into verb and argument text.
//
// RFC 5321 4.1.1: verbs are case-insensitive; the argument is what follows
// the first space. Sans-I/O and allocation-free: views into the line.
#pragma once
#include <string_view>

namespace sluice::protocol {

enum class Verb {
  helo, ehlo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help,
  starttls, xclient, auth, unknown
};

struct Command {
  Verb verb = Verb::unknown;
  std::string_view name;  // the verb as sent, for logs (sanitise before use)
  std::string_view args;  // after the first space, trailing spaces trimmed
};

Command parse_command(std::string_view line);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
const char* verb_name(Verb v);

}  // namespace sluice::protocol
