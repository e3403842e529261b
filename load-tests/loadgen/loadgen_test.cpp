// The load generator's own arithmetic: percentiles, exact message sizes,
// BDAT chunking, source-address spreading, option checks.
#include <gtest/gtest.h>

#include <fstream>

#include <algorithm>
#include <random>
#include <vector>

#include "load-tests/loadgen/latency.hpp"
#include "load-tests/loadgen/message.hpp"
#include "load-tests/loadgen/options.hpp"
#include "load-tests/loadgen/source_address.hpp"

namespace sluice::loadgen {
namespace {

using std::chrono::microseconds;

TEST(LoadgenLatency, PercentilesWithinTheHistogramsPrecision) {
  std::mt19937 rng(7);
  std::lognormal_distribution<double> dist(8.0, 1.5);  // ~3 ms median, long tail
  std::vector<std::int64_t> values;
  Latency l;
  for (int i = 0; i < 100000; ++i) {
    auto us = static_cast<std::int64_t>(dist(rng));
    values.push_back(us);
    l.add(microseconds(us));
  }
  std::sort(values.begin(), values.end());
  for (double p : {0.5, 0.9, 0.99}) {
    double exact = static_cast<double>(values[static_cast<std::size_t>(p * values.size()) - 1]);
    EXPECT_NEAR(l.percentile_us(p), exact, exact * 0.016 + 1) << p;
  }
  EXPECT_EQ(l.max_us(), static_cast<double>(values.back()));
  EXPECT_EQ(l.count(), 100000u);
}

TEST(LoadgenLatency, SmallValuesAreExactAndEmptyIsZero) {
  Latency l;
  EXPECT_EQ(l.percentile_us(0.5), 0);
  for (int us : {5, 7, 9}) l.add(microseconds(us));
  EXPECT_EQ(l.percentile_us(0.5), 7);
  EXPECT_EQ(l.percentile_us(1.0), 9);
}

TEST(LoadgenMessage, EverySizeIsExactWithCrlfLinesOnly) {
  Options o;
  for (std::size_t size = 100; size < 400; ++size) {
    o.size = size;
    MessageTemplate m = build_message(o);
    ASSERT_EQ(m.body.size(), size);
    ASSERT_TRUE(m.body.ends_with("\r\n"));
    // No bare LF, no line starting with a dot.
    for (std::size_t i = 0; i < m.body.size(); ++i) {
      if (m.body[i] == '\n') {
        ASSERT_EQ(m.body[i - 1], '\r') << size;
      }
      if (i > 0 && m.body[i - 1] == '\n') {
        ASSERT_NE(m.body[i], '.');
      }
    }
    ASSERT_EQ(m.body_dot, m.body + ".\r\n");
  }
}

TEST(LoadgenMessage, BdatChunksAddUpToTheMessage) {
  Options o;
  o.size = 10000;
  o.chunk = 4096;
  o.recipients = 3;
  MessageTemplate m = build_message(o);
  EXPECT_EQ(m.bdat_replies, 3u);
  EXPECT_NE(m.bdat.find("BDAT 4096\r\n"), std::string::npos);
  EXPECT_NE(m.bdat.find("BDAT 1808 LAST\r\n"), std::string::npos);
  EXPECT_EQ(m.bdat.size(), 10000 + std::string("BDAT 4096\r\nBDAT 4096\r\nBDAT 1808 LAST\r\n").size());
  EXPECT_EQ(m.rcpt_lines.size(), 3u);
  EXPECT_EQ(m.data_group, m.mail + m.rcpts + "DATA\r\n");
  o.chunk = 0;
  EXPECT_EQ(build_message(o).bdat.substr(0, 17), "BDAT 10000 LAST\r\n");
}

TEST(LoadgenSources, SpreadOverTheRangeInBlocks) {
  std::string error;
  auto s = SourceAddresses::parse("127.0.0.0/8", 3, error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->for_connection(0)->to_string(), "127.0.0.1");
  EXPECT_EQ(s->for_connection(2)->to_string(), "127.0.0.1");
  EXPECT_EQ(s->for_connection(3)->to_string(), "127.0.0.2");
  EXPECT_EQ(s->for_connection(3 * 300)->to_string(), "127.0.1.45");
  auto one = SourceAddresses::parse("127.0.0.9", 3, error);
  EXPECT_EQ(one->for_connection(12345)->to_string(), "127.0.0.9");
  EXPECT_FALSE(SourceAddresses::parse("", 3, error)->for_connection(0));
  EXPECT_FALSE(SourceAddresses::parse("127.0.0.0/4", 3, error));
  EXPECT_FALSE(SourceAddresses::parse("not-an-address", 3, error));
}

TEST(LoadgenOptions, ResumeNeedsStarttlsAndPortIsRequired) {
  const char* ok[] = {"lg", "--port", "25", "--mode", "bdat", "--chunk", "100", "--starttls", "--resume"};
  auto o = parse_options(9, const_cast<char**>(ok));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->mode, Mode::bdat);
  EXPECT_TRUE(o->resume);
  const char* no_tls[] = {"lg", "--port", "25", "--resume"};
  EXPECT_FALSE(parse_options(4, const_cast<char**>(no_tls)));
  const char* no_port[] = {"lg", "--mode", "plain"};
  EXPECT_FALSE(parse_options(3, const_cast<char**>(no_port)));
  const char* bad_mode[] = {"lg", "--port", "25", "--mode", "turbo"};
  EXPECT_FALSE(parse_options(5, const_cast<char**>(bad_mode)));
}

TEST(LoadgenOptions, ImplicitTlsVersionAndHandshakeModeChecks) {
  auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), {"lg", "--port", "465"});
    return parse_options(static_cast<int>(args.size()), const_cast<char**>(args.data()));
  };
  auto o = parse({"--tls", "--tls-version", "1.3", "--mode", "handshake", "--resume"});
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->implicit_tls && o->tls() && o->resume);
  EXPECT_EQ(o->tls_version, "1.3");
  EXPECT_EQ(o->mode, Mode::handshake);
  EXPECT_TRUE(parse({"--starttls", "--mode", "handshake"}));
  EXPECT_FALSE(parse({"--mode", "handshake"}));                  // nothing to shake hands over
  EXPECT_FALSE(parse({"--tls", "--starttls"}));                   // one or the other
  EXPECT_FALSE(parse({"--tls", "--tls-version", "1.1"}));         // only 1.2 and 1.3
  EXPECT_FALSE(parse({"--tls-version", "1.2"}));                  // a version without TLS
  EXPECT_FALSE(parse({"--tls", "--mode", "pipeconnect"}));        // early data before a handshake
  EXPECT_FALSE(parse({"--tls", "--mode", "idle"}));
}

TEST(LoadgenMessage, AFileIsSentAsItIsWithCrlfAndDotStuffing) {
  const std::string path = ::testing::TempDir() + "/loadgen-message.eml";
  {
    std::ofstream f(path, std::ios::binary);
    f << "DKIM-Signature: v=1; d=x.test\nFrom: a@x.test\r\n\r\n.leading dot\nlast line";
  }
  Options o;
  o.message_file = path;
  const MessageTemplate m = build_message(o);
  EXPECT_EQ(m.body, "DKIM-Signature: v=1; d=x.test\r\nFrom: a@x.test\r\n\r\n.leading dot\r\nlast line\r\n");
  EXPECT_EQ(m.body_dot, "DKIM-Signature: v=1; d=x.test\r\nFrom: a@x.test\r\n\r\n..leading dot\r\nlast line\r\n.\r\n");
  EXPECT_EQ(m.bdat, "BDAT " + std::to_string(m.body.size()) + " LAST\r\n" + m.body);
}

}  // namespace
}  // namespace sluice::loadgen
