#include "protocol/command.hpp"

#include <array>
#include <utility>

namespace sluice::protocol {

namespace {
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr std::array<std::pair<std::string_view, Verb>, 15> kVerbs{{
    {"helo", Verb::helo}, {"ehlo", Verb::ehlo}, {"mail", Verb::mail}, {"rcpt", Verb::rcpt},
    {"data", Verb::data}, {"bdat", Verb::bdat}, {"rset", Verb::rset}, {"noop", Verb::noop},
    {"quit", Verb::quit}, {"vrfy", Verb::vrfy}, {"expn", Verb::expn}, {"help", Verb::help},
    {"starttls", Verb::starttls}, {"xclient", Verb::xclient}, {"auth", Verb::auth},
}};
}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

Command parse_command(std::string_view line) {
  Command c;
  std::size_t sp = line.find(' ');
  c.name = line.substr(0, sp);
  if (sp != std::string_view::npos) {
    c.args = line.substr(sp + 1);
    while (!c.args.empty() && (c.args.back() == ' ' || c.args.back() == '\t')) c.args.remove_suffix(1);
  }
  for (const auto& [name, verb] : kVerbs) {
    if (iequals(c.name, name)) {
      c.verb = verb;
      break;
    }
  }
  return c;
}

const char* verb_name(Verb v) {
  for (const auto& [name, verb] : kVerbs)
    if (verb == v) return name.data();
  return "unknown";
}

}  // namespace sluice::protocol
