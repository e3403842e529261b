// InputBuffer: command lines (CRLF or bare LF), the overlong-line skip that
// keeps the dialogue in sync without buffering the line, and the raw
// prepare/commit/peek/consume path used for message data.
#include "protocol/input_buffer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace sluice::protocol {
namespace {

// What a socket read does: write into prepare()'s span, commit what arrived.
void feed(InputBuffer& b, std::string_view bytes) {
  std::span<char> room = b.prepare(bytes.size() + 7);  // reads rarely fill the room
  ASSERT_EQ(room.size(), bytes.size() + 7);
  std::memcpy(room.data(), bytes.data(), bytes.size());
  b.commit(bytes.size());
}

// Every complete line, as strings; stops at need_more. Overlong lines show
// as "<overlong>".
std::vector<std::string> drain(InputBuffer& b, std::size_t max_line = 512) {
  std::vector<std::string> out;
  for (;;) {
    LineResult r = b.next_line(max_line);
    if (r.status == LineStatus::need_more) return out;
    out.push_back(r.status == LineStatus::overlong ? "<overlong>" : std::string(r.line));
  }
}

using Lines = std::vector<std::string>;

TEST(InputBuffer, EmptyBufferNeedsMore) {
  InputBuffer b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.next_line(512).status, LineStatus::need_more);
}

TEST(InputBuffer, CrlfAndBareLfLinesWithoutTheirEnding) {
  InputBuffer b;
  feed(b, "EHLO a\r\nMAIL FROM:<>\nRCPT TO:<b@c>\r\n\r\n\n");
  EXPECT_EQ(drain(b), (Lines{"EHLO a", "MAIL FROM:<>", "RCPT TO:<b@c>", "", ""}));
  EXPECT_TRUE(b.empty());
}

TEST(InputBuffer, OnlyTheCrJustBeforeLfIsStripped) {
  InputBuffer b;
  feed(b, "NOOP\r\r\nNO\rOP\n\rNOOP\n");
  EXPECT_EQ(drain(b), (Lines{"NOOP\r", "NO\rOP", "\rNOOP"}));
}

TEST(InputBuffer, LineSplitAcrossReads) {
  InputBuffer b;
  feed(b, "NO");
  EXPECT_EQ(b.next_line(512).status, LineStatus::need_more);
  feed(b, "OP\r");
  EXPECT_EQ(b.next_line(512).status, LineStatus::need_more);
  EXPECT_EQ(b.size(), 5u);  // nothing lost while waiting
  feed(b, "\nRS");
  EXPECT_EQ(drain(b), Lines{"NOOP"});
  feed(b, "ET\r\n");
  EXPECT_EQ(drain(b), Lines{"RSET"});
}

TEST(InputBuffer, MaxLineCountsTheLineEnding) {
  // RFC 5321 4.5.3.1.4: 512 octets including CRLF.
  InputBuffer b;
  feed(b, std::string(8, 'a') + "\r\n" + std::string(9, 'b') + "\n" + std::string(9, 'c') + "\r\n" +
              std::string(10, 'd') + "\n");
  EXPECT_EQ(drain(b, 10), (Lines{std::string(8, 'a'), std::string(9, 'b'), "<overlong>", "<overlong>"}));
}

TEST(InputBuffer, PartialLineAtTheLimitStartsSkipping) {
  // 9 bytes without LF could still become a 10-byte line; 10 cannot.
  InputBuffer b;
  feed(b, std::string(9, 'a'));
  EXPECT_EQ(b.next_line(10).status, LineStatus::need_more);
  EXPECT_EQ(b.size(), 9u);
  feed(b, "\n");
  EXPECT_EQ(drain(b, 10), Lines{std::string(9, 'a')});

  feed(b, std::string(10, 'b'));
  EXPECT_EQ(b.next_line(10).status, LineStatus::need_more);
  EXPECT_EQ(b.size(), 0u);  // dropped, not kept
  feed(b, "\nNOOP\n");
  EXPECT_EQ(drain(b, 10), (Lines{"<overlong>", "NOOP"}));
}

TEST(InputBuffer, OverlongLineIsSkippedOnceThenInSync) {
  InputBuffer b;
  feed(b, std::string(600, 'x') + "\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(drain(b, 512), (Lines{"<overlong>", "NOOP", "QUIT"}));
}

TEST(InputBuffer, MemoryDoesNotGrowWhileSkipping) {
  InputBuffer b;
  const std::size_t max = 512;
  feed(b, "MAIL FROM:<" + std::string(1000, 'a'));
  EXPECT_EQ(b.next_line(max).status, LineStatus::need_more);
  // Megabytes of one endless line: each read is dropped, nothing accumulates.
  const std::string junk(16 * 1024, 'j');
  for (int i = 0; i < 256; ++i) {
    feed(b, junk);
    ASSERT_EQ(b.next_line(max).status, LineStatus::need_more) << i;
    ASSERT_EQ(b.size(), 0u) << i;
  }
  // The line ends in the middle of a read; what follows is parsed normally.
  feed(b, "tail>\r\nRSET\r\nNOO");
  EXPECT_EQ(drain(b, max), (Lines{"<overlong>", "RSET"}));
  EXPECT_EQ(b.size(), 3u);
  feed(b, "P\r\n");
  EXPECT_EQ(drain(b, max), Lines{"NOOP"});
}

TEST(InputBuffer, OverlongReportedOncePerLine) {
  InputBuffer b;
  feed(b, std::string(20, 'a'));
  EXPECT_EQ(b.next_line(16).status, LineStatus::need_more);
  feed(b, std::string(20, 'b'));
  EXPECT_EQ(b.next_line(16).status, LineStatus::need_more);
  feed(b, "\n" + std::string(20, 'c') + "\nok\n");
  EXPECT_EQ(drain(b, 16), (Lines{"<overlong>", "<overlong>", "ok"}));
}

TEST(InputBuffer, PeekAndConsumeForRawData) {
  InputBuffer b;
  feed(b, "BDAT 5\r\nhello");
  EXPECT_EQ(drain(b), Lines{"BDAT 5"});
  EXPECT_EQ(b.peek(), "hello");
  b.consume(2);
  EXPECT_EQ(b.peek(), "llo");
  EXPECT_EQ(b.size(), 3u);
  feed(b, "QUIT\r\n");  // prepare() compacts: unread bytes keep their order
  EXPECT_EQ(b.peek(), "lloQUIT\r\n");
  b.consume(3);
  EXPECT_EQ(drain(b), Lines{"QUIT"});
  EXPECT_TRUE(b.empty());
}

TEST(InputBuffer, CommitOfLessThanPreparedKeepsOnlyWhatArrived) {
  InputBuffer b;
  std::span<char> room = b.prepare(100);
  std::memcpy(room.data(), "NOOP\n", 5);
  b.commit(5);
  EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ(b.peek(), "NOOP\n");
  b.prepare(100);
  b.commit(0);  // a read that returned nothing
  EXPECT_EQ(b.peek(), "NOOP\n");
}

TEST(InputBuffer, ConsumingEverythingEmptiesTheBuffer) {
  InputBuffer b;
  feed(b, "abc");
  b.consume(3);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.peek(), "");
  feed(b, "x\n");
  EXPECT_EQ(drain(b), Lines{"x"});
}

TEST(InputBuffer, LineViewStaysValidUntilTheNextCall) {
  InputBuffer b;
  feed(b, "EHLO a\r\nNOOP\r\n");
  LineResult first = b.next_line(512);
  ASSERT_EQ(first.status, LineStatus::line);
  EXPECT_EQ(b.peek(), "NOOP\r\n");  // peek does not disturb the view
  EXPECT_EQ(first.line, "EHLO a");
}

TEST(InputBuffer, ClearDropsPipelinedInput) {
  // STARTTLS: plaintext behind the command must not survive into TLS.
  InputBuffer b;
  feed(b, "STARTTLS\r\nMAIL FROM:<evil@x>\r\n");
  EXPECT_EQ(b.next_line(512).line, "STARTTLS");
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.next_line(512).status, LineStatus::need_more);
  feed(b, "EHLO a\r\n");
  EXPECT_EQ(drain(b), Lines{"EHLO a"});
}

TEST(InputBuffer, LargeBurstThenSmallReadsStillWork) {
  InputBuffer b;
  const std::string chunk(200 * 1024, 'z');
  feed(b, chunk);
  EXPECT_EQ(b.peek().size(), chunk.size());
  b.consume(chunk.size() - 1);
  feed(b, "\nNOOP\n");  // the compaction after a burst keeps the tail
  EXPECT_EQ(b.peek(), "z\nNOOP\n");
  b.consume(2);
  EXPECT_EQ(drain(b), Lines{"NOOP"});
}

}  // namespace
}  // namespace sluice::protocol
