// parse_command(): verb recognition (RFC 5321 4.1.1, case-insensitive), the
// argument split, and the ASCII-only case folding helpers.
#include "protocol/command.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sluice::protocol {
namespace {

TEST(Command, EveryVerbInAnyCase) {
  const std::vector<std::pair<std::string, Verb>> cases = {
      {"HELO", Verb::helo},         {"ehlo", Verb::ehlo},  {"Mail", Verb::mail},
      {"rCPT", Verb::rcpt},         {"DATA", Verb::data},  {"bdat", Verb::bdat},
      {"RSET", Verb::rset},         {"NoOp", Verb::noop},  {"QUIT", Verb::quit},
      {"VRFY", Verb::vrfy},         {"EXPN", Verb::expn},  {"HELP", Verb::help},
      {"StartTLS", Verb::starttls}, {"xclient", Verb::xclient}, {"AUTH", Verb::auth},
  };
  for (const auto& [text, verb] : cases) {
    const Command c = parse_command(text);
    EXPECT_EQ(c.verb, verb) << text;
    EXPECT_EQ(c.name, text) << text;  // as sent, for logs
    EXPECT_EQ(c.args, "") << text;
  }
}

TEST(Command, VerbNamesAreLowerCaseAndRoundTrip) {
  for (int v = static_cast<int>(Verb::helo); v < static_cast<int>(Verb::unknown); ++v) {
    const Verb verb = static_cast<Verb>(v);
    const std::string name = verb_name(verb);
    EXPECT_EQ(parse_command(name).verb, verb) << name;
    for (char c : name) EXPECT_TRUE(c >= 'a' && c <= 'z') << name;
  }
  EXPECT_STREQ(verb_name(Verb::unknown), "unknown");
  EXPECT_STREQ(verb_name(Verb::starttls), "starttls");
}

TEST(Command, ArgumentsFollowTheFirstSpace) {
  Command c = parse_command("MAIL FROM:<a@b.example> SIZE=10");
  EXPECT_EQ(c.verb, Verb::mail);
  EXPECT_EQ(c.name, "MAIL");
  EXPECT_EQ(c.args, "FROM:<a@b.example> SIZE=10");

  c = parse_command("EHLO  client.example");  // a second space belongs to the argument
  EXPECT_EQ(c.args, " client.example");

  c = parse_command("NOOP ");
  EXPECT_EQ(c.verb, Verb::noop);
  EXPECT_EQ(c.args, "");
}

TEST(Command, TrailingBlanksAreTrimmedInnerOnesKept) {
  const Command c = parse_command("RCPT TO:<a@b.example>  NOTIFY=NEVER \t \t");
  EXPECT_EQ(c.args, "TO:<a@b.example>  NOTIFY=NEVER");
  EXPECT_EQ(parse_command("VRFY \t").args, "");
}

TEST(Command, ArgsAreViewsIntoTheLine) {
  const std::string line = "HELO host.example";
  const Command c = parse_command(line);
  EXPECT_EQ(c.name.data(), line.data());
  EXPECT_EQ(c.args.data(), line.data() + 5);
}

TEST(Command, UnknownVerbs) {
  for (const char* line : {"", " ", " NOOP", "NOOPX", "NOO", "HELLO a", "MAIL:FROM:<>",
                           "NOOP\tx", "STARTTLSX", "\xff\xfe"}) {
    const Command c = parse_command(line);
    EXPECT_EQ(c.verb, Verb::unknown) << line;
  }
  const Command c = parse_command("FOO bar baz");
  EXPECT_EQ(c.name, "FOO");
  EXPECT_EQ(c.args, "bar baz");
}

TEST(Command, IequalsFoldsAsciiLettersOnly) {
  EXPECT_TRUE(iequals("MAIL", "mail"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("mail", "mai"));
  EXPECT_FALSE(iequals("mail", "mailx"));
  // Characters 0x20 apart that are not letters must stay different: a naive
  // `c | 0x20` would make these equal.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("^", "~"));
  EXPECT_FALSE(iequals("\xc9", "\xe9"));  // Latin-1 E-acute vs e-acute: not ASCII
  EXPECT_TRUE(iequals("a1-Z", "A1-z"));
}

TEST(Command, IstartsWith) {
  EXPECT_TRUE(istarts_with("from:<a@b>", "FROM:"));
  EXPECT_TRUE(istarts_with("FROM:", "from:"));
  EXPECT_TRUE(istarts_with("anything", ""));
  EXPECT_FALSE(istarts_with("FROM", "FROM:"));
  EXPECT_FALSE(istarts_with("", "T"));
  EXPECT_FALSE(istarts_with(" TO:<a@b>", "TO:"));
}

TEST(Command, EmbeddedNulIsPartOfTheArgument) {
  // The server refuses NUL before parsing; the parser itself must not stop at it.
  const std::string line("NOOP a\0b", 8);
  const Command c = parse_command(line);
  EXPECT_EQ(c.verb, Verb::noop);
  EXPECT_EQ(c.args.size(), 3u);
}

}  // namespace
}  // namespace sluice::protocol
