#include "filters/header_block_scanner.hpp"

#include <gtest/gtest.h>

namespace sluice::filters {
namespace {

// Feeds `message` in pieces of `step` bytes; returns what would be stored.
std::string scan(HeaderBlockScanner& s, std::string_view message, std::size_t step) {
  std::string out;
  for (std::size_t i = 0; i < message.size(); i += step) s.feed(message.substr(i, step), out);
  s.finish(out);
  return out;
}

constexpr std::string_view kForged =
    "Received: from x\r\n"
    "Authentication-Results: MX.example.net; spf=pass smtp.mailfrom=ceo@example.com\r\n"
    "Authentication-Results:\r\n  (comment) mx.example.net;\r\n  dkim=pass\r\n"
    "Authentication-Results: \"mx.example.net\" 1; none\r\n"
    "Authentication-Results: mx.example.net.evil.test; dkim=pass\r\n"
    "Authentication-Results: other.example.org; dkim=pass\r\n"
    "From: Someone <someone@Example.COM>\r\n"
    "\r\n"
    "Authentication-Results: mx.example.net; in the body, untouched\r\n";

TEST(HeaderBlockScanner, RemovesOurAuthenticationResultsWhateverThePieces) {
  const std::string want =
      "Received: from x\r\n"
      "Authentication-Results: mx.example.net.evil.test; dkim=pass\r\n"
      "Authentication-Results: other.example.org; dkim=pass\r\n"
      "From: Someone <someone@Example.COM>\r\n"
      "\r\n"
      "Authentication-Results: mx.example.net; in the body, untouched\r\n";
  for (std::size_t step : {1, 2, 3, 7, 64, 4096}) {
    HeaderBlockScanner s("mx.example.net");
    EXPECT_EQ(scan(s, kForged, step), want) << "step " << step;
    EXPECT_EQ(s.removed_authentication_results(), 3u);
    EXPECT_TRUE(s.header_block_ended());
    const FromHeaderFacts f = s.from_header();
    EXPECT_EQ(f.state, FromHeaderFacts::State::ok);
    EXPECT_EQ(f.domain, "example.com");
    EXPECT_EQ(f.address, "someone@Example.COM");
  }
}

TEST(HeaderBlockScanner, PassesEverythingElseByteForByte) {
  const std::string msg = "Subject: a\nX-Long: b\n\tfolded\r\nFrom: a@b.example\r\n\r\nbody\r\nno end";
  HeaderBlockScanner s("mx.example.net");
  EXPECT_EQ(scan(s, msg, 5), msg);
  EXPECT_EQ(s.removed_authentication_results(), 0u);
}

TEST(HeaderBlockScanner, AnOverlongFieldIsPassedOnNotHeld) {
  std::string big = "Authentication-Results: mx.example.net; " + std::string(100 * 1024, 'x') + "\r\n\r\nbody\r\n";
  HeaderBlockScanner s("mx.example.net");
  std::string out;
  s.feed(big.substr(0, 70 * 1024), out);
  EXPECT_GE(out.size(), 64u * 1024);  // not held beyond the bound
  s.feed(big.substr(70 * 1024), out);
  s.finish(out);
  EXPECT_EQ(out, big);  // too long to judge: kept as it came
}

// A From field too long to hold is still a From field: alone it reads as
// malformed (no author), beside another it makes "several"; either way DMARC
// cannot take the short one as the only author. Folded (many short lines) or
// one long line, split anywhere.
TEST(HeaderBlockScanner, AnOverlongFromFieldStillCounts) {
  std::string folded = "From: \"x\" (";
  for (int i = 0; i < 70; ++i) folded += std::string(990, 'c') + "\r\n ";
  folded += ") <ceo@bank.example>\r\n";
  const std::string one_line = "From: \"" + std::string(70 * 1024, 'n') + "\" <ceo@bank.example>\r\n";
  for (const bool is_one_line : {false, true}) {
    const std::string& big_from = is_one_line ? one_line : folded;
    for (std::size_t step : {4096, 100000}) {
      const std::string alone = "Subject: s\r\n" + big_from + "\r\nbody\r\n";
      HeaderBlockScanner a("mx.example.net");
      EXPECT_EQ(scan(a, alone, step), alone);
      // However the reads split it (the whole line in one piece too).
      EXPECT_EQ(a.from_header().state, FromHeaderFacts::State::malformed) << step << " " << is_one_line;

      const std::string two = big_from + "From: a@evil.example\r\n\r\nbody\r\n";
      HeaderBlockScanner b("mx.example.net");
      EXPECT_EQ(scan(b, two, step), two);
      EXPECT_EQ(b.from_header().state, FromHeaderFacts::State::several_fields) << step;
    }
  }
}

// The field before an overlong line is complete and judged as any other: a
// From counted, a forged Authentication-Results removed.
TEST(HeaderBlockScanner, TheFieldBeforeAnOverlongLineIsStillJudged) {
  const std::string big = "X-Big: " + std::string(70 * 1024, 'b') + "\r\n";
  const std::string msg = "Authentication-Results: mx.example.net; dkim=pass\r\n"
                          "From: a@evil.example\r\n" + big +
                          "Authentication-Results: mx.example.net; spf=pass\r\n"
                          "\r\nbody\r\n";
  for (std::size_t step : {4096, 100000}) {
    HeaderBlockScanner s("mx.example.net");
    EXPECT_EQ(scan(s, msg, step), "From: a@evil.example\r\n" + big + "\r\nbody\r\n") << step;
    EXPECT_EQ(s.removed_authentication_results(), 2u);
    EXPECT_EQ(s.from_header().state, FromHeaderFacts::State::ok);
    EXPECT_EQ(s.from_header().domain, "evil.example");
  }
}

TEST(HeaderBlockScanner, AHeaderBlockThatNeverEndsIsStillAllStored) {
  std::string msg;
  for (int i = 0; i < 2000; ++i) msg += "X-Filler-" + std::to_string(i) + ": some value\r\n";
  HeaderBlockScanner s("mx.example.net");
  EXPECT_EQ(scan(s, msg, 1000), msg);
  EXPECT_FALSE(s.header_block_ended());
}

FromHeaderFacts from(std::vector<std::string> values) { return from_header_facts(values); }

TEST(FromHeaderFacts, TheAuthorRfc7489Wants) {
  using S = FromHeaderFacts::State;
  EXPECT_EQ(from({}).state, S::none);
  EXPECT_EQ(from({" a@x.example", " b@y.example"}).state, S::several_fields);
  EXPECT_EQ(from({" a@x.example, b@y.example"}).state, S::several_addresses);
  EXPECT_EQ(from({" Friends: a@x.example, b@y.example;"}).state, S::several_addresses);
  EXPECT_EQ(from({" \"Doe, John\" <john@x.example>"}).state, S::ok);
  EXPECT_EQ(from({" \"Doe, John\" <john@x.example>"}).domain, "x.example");
  EXPECT_EQ(from({" john@x.example (John, \"Doe\")"}).domain, "x.example");
  EXPECT_EQ(from({" \"odd@local\"@Y.Example."}).domain, "y.example");
  EXPECT_EQ(from({" <john@[192.0.2.1]>"}).state, S::malformed);
  EXPECT_EQ(from({" no address here"}).state, S::malformed);
  EXPECT_EQ(from({" <unterminated@x.example"}).state, S::malformed);
  EXPECT_EQ(from({" \"unterminated <a@x.example>"}).state, S::malformed);
}

}  // namespace
}  // namespace sluice::filters
