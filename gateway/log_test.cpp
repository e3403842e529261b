// LogLine: logfmt and JSON shapes, escaping of hostile values (no forged
// lines, no broken JSON), level filtering and emit-once. The log writes to fd
// 1, so each test points fd 1 at a temporary file while it logs.
#include "gateway/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::gateway {
namespace {

// Runs `fn` with fd 1 redirected to a temporary file; returns what was written.
template <class F>
std::string capture_stdout(F&& fn) {
  std::fflush(stdout);
  std::FILE* tmp = std::tmpfile();
  if (!tmp) return "<tmpfile failed>";
  const int saved = ::dup(STDOUT_FILENO);
  ::dup2(::fileno(tmp), STDOUT_FILENO);
  fn();
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::string out;
  std::rewind(tmp);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, tmp)) > 0;) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

const std::regex kLogfmtTs(R"(^ts=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z )");
const std::regex kJsonTs(R"(^\{"ts":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z",)");

// The line with its timestamp replaced by "T", after checking its shape.
std::string without_ts(const std::string& line) {
  const bool json = !line.empty() && line[0] == '{';
  const std::regex& re = json ? kJsonTs : kLogfmtTs;
  EXPECT_TRUE(std::regex_search(line, re)) << line;
  return std::regex_replace(line, re, json ? R"({"ts":"T",)" : "ts=T ");
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { set_log_options(LogFormat::logfmt, LogLevel::info); }
  void TearDown() override { set_log_options(LogFormat::logfmt, LogLevel::info); }
};

TEST_F(LogTest, LogfmtLine) {
  const std::string out = capture_stdout([] {
    log_info("accepted").field("id", "1wXyZa-000000000AB-0001").field("S", std::uint64_t{1234})
        .field("H", "mail.example (x) [192.0.2.1]:25").emit();
  });
  EXPECT_EQ(without_ts(out),
            "ts=T level=info event=accepted id=1wXyZa-000000000AB-0001 S=1234 H=\"mail.example (x) [192.0.2.1]:25\"\n");
}

TEST_F(LogTest, ValuesOfEveryType) {
  const std::string out = capture_stdout([] {
    log_warn("x").field("neg", -5).field("zero", 0).field("max", UINT64_MAX).field("u", 7u)
        .field("yes", true).field("no", false).field("str", std::string("s"));
  });
  EXPECT_EQ(without_ts(out), "ts=T level=warn event=x neg=-5 zero=0 max=18446744073709551615 u=7 yes=yes no=no str=s\n");
}

TEST_F(LogTest, EmptyValuesAreLeftOut) {
  const std::string out = capture_stdout([] { log_info("e").field("a", "").field("b", "x").field("c", std::string{}); });
  EXPECT_EQ(without_ts(out), "ts=T level=info event=e b=x\n");
}

TEST_F(LogTest, HostileValueCannotForgeALine) {
  const std::string out = capture_stdout([] {
    log_info("reject").field("helo", "x\r\nts=2024-01-01T00:00:00.000Z level=error event=forged").emit();
  });
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(without_ts(out),
            "ts=T level=info event=reject helo=\"x\\x0d\\x0ats=2024-01-01T00:00:00.000Z level=error event=forged\"\n");
}

TEST_F(LogTest, QuotesBackslashesAndEightBitAreEscaped) {
  const std::string out = capture_stdout([] {
    log_info("e").field("q", "say \"hi\"").field("bs", "a\\b").field("eq", "k=v").field("utf8", "caf\xc3\xa9")
        .field("nul", std::string_view("a\0b", 3)).field("del", "\x7f");
  });
  EXPECT_EQ(without_ts(out),
            "ts=T level=info event=e q=\"say \\x22hi\\x22\" bs=a\\x5cb eq=\"k=v\" utf8=\"caf\\xc3\\xa9\" "
            "nul=\"a\\x00b\" del=\"\\x7f\"\n");
}

TEST_F(LogTest, JsonLine) {
  set_log_options(LogFormat::json, LogLevel::info);
  const std::string out = capture_stdout([] {
    log_error("spool_commit_failed").field("id", "abc").field("n", 5).field("ok", true);
  });
  EXPECT_EQ(without_ts(out), "{\"ts\":\"T\",\"level\":\"error\",\"event\":\"spool_commit_failed\",\"id\":\"abc\","
                             "\"n\":\"5\",\"ok\":\"yes\"}\n");
}

TEST_F(LogTest, JsonEscapingKeepsTheObjectWhole) {
  set_log_options(LogFormat::json, LogLevel::info);
  const std::string out = capture_stdout([] {
    log_info("e").field("v", "a\"}, \"level\":\"error\\\r\n\xc3\xa9\x01").field("k\"ey", "x");
  });
  EXPECT_EQ(without_ts(out),
            "{\"ts\":\"T\",\"level\":\"info\",\"event\":\"e\","
            "\"v\":\"a\\u0022}, \\u0022level\\u0022:\\u0022error\\u005c\\u000d\\u000a\\u00c3\\u00a9\\u0001\","
            "\"k\\u0022ey\":\"x\"}\n");
}

TEST_F(LogTest, LevelFilter) {
  set_log_options(LogFormat::logfmt, LogLevel::warn);
  EXPECT_FALSE(log_enabled(LogLevel::debug));
  EXPECT_FALSE(log_enabled(LogLevel::info));
  EXPECT_TRUE(log_enabled(LogLevel::warn));
  EXPECT_TRUE(log_enabled(LogLevel::error));
  const std::string out = capture_stdout([] {
    log_debug("d").field("k", "v");
    log_info("i").field("k", "v");
    log_warn("w");
    log_error("e");
  });
  EXPECT_EQ(out.find("event=d"), std::string::npos);
  EXPECT_EQ(out.find("event=i"), std::string::npos);
  EXPECT_NE(out.find("level=warn event=w\n"), std::string::npos) << out;
  EXPECT_NE(out.find("level=error event=e\n"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);

  set_log_options(LogFormat::logfmt, LogLevel::debug);
  EXPECT_TRUE(log_enabled(LogLevel::debug));
  EXPECT_NE(capture_stdout([] { log_debug("d"); }).find("level=debug event=d\n"), std::string::npos);
}

TEST_F(LogTest, EachLineIsEmittedOnce) {
  const std::string out = capture_stdout([] {
    LogLine a(LogLevel::info, "explicit");
    a.field("k", "v");
    a.emit();
    a.emit();
    a.field("late", "x");  // after emit: not written anywhere
    { LogLine b(LogLevel::info, "by_destructor"); }
  });
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_NE(out.find("event=explicit k=v\n"), std::string::npos) << out;
  EXPECT_NE(out.find("event=by_destructor\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("late"), std::string::npos) << out;
}

TEST_F(LogTest, LinesFromSeveralThreadsDoNotInterleave) {
  constexpr int kThreads = 4, kLines = 500;
  const std::string value(300, 'v');
  const std::string out = capture_stdout([&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kLines; ++i) log_info("burst").field("t", t).field("v", value);
      });
    for (auto& th : threads) th.join();
  });
  std::size_t lines = 0, start = 0;
  const std::regex whole(R"(ts=\S+ level=info event=burst t=[0-3] v=v{300})");
  for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1, ++lines)
    ASSERT_TRUE(std::regex_match(out.substr(start, nl - start), whole)) << out.substr(start, nl - start);
  EXPECT_EQ(start, out.size());
  EXPECT_EQ(lines, static_cast<std::size_t>(kThreads * kLines));
}

}  // namespace
}  // namespace sluice::gateway
