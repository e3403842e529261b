// Tests for DataDecoder: RFC 5321 4.1.1.4 end of data, 4.5.2 dot-stuffing,
// the SMTP smuggling variants, limits, and chunk-boundary invariance (checked
// against a small whole-input reference decoder and by random splitting).
#include "protocol/data_decoder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace sluice::protocol {
namespace {

using namespace std::string_literals;

constexpr std::size_t kMaxLine = 1000;

struct Result {
  std::string out;
  std::size_t consumed = 0;
  bool finished = false;
  bool bare_cr = false, bare_lf = false, overlong = false, nul = false;
  std::size_t longest = 0;
  std::uint64_t message_bytes = 0;

  bool operator==(const Result&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  std::string shown;
  for (unsigned char c : r.out) {
    if (c == '\r') shown += "\\r";
    else if (c == '\n') shown += "\\n";
    else if (c == 0) shown += "\\0";
    else shown += static_cast<char>(c);
  }
  return os << "{out=\"" << shown << "\" consumed=" << r.consumed << " finished=" << r.finished
            << " cr=" << r.bare_cr << " lf=" << r.bare_lf << " overlong=" << r.overlong
            << " nul=" << r.nul << " longest=" << r.longest << " bytes=" << r.message_bytes << "}";
}

// Feeds `in` in pieces cut at `cuts` (ascending offsets), the way a session
// would: each feed gets the unconsumed rest of what has arrived so far.
Result decode_chunks(BareLineEnding mode, std::string_view in, const std::vector<std::size_t>& cuts,
                     std::size_t max_line = kMaxLine) {
  DataDecoder d(mode, max_line);
  Result r;
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(in.size());
  for (std::size_t to : ends) {
    if (to < from) continue;
    const auto step = d.feed(in.substr(from, to - from), r.out);
    EXPECT_LE(step.consumed, to - from);
    r.consumed += step.consumed;
    if (step.finished) {
      r.finished = true;
      break;
    }
    EXPECT_EQ(step.consumed, to - from) << "an unfinished feed must use all its input";
    from = to;
  }
  EXPECT_EQ(d.finished(), r.finished);
  r.bare_cr = d.saw_bare_cr();
  r.bare_lf = d.saw_bare_lf();
  r.overlong = d.saw_overlong_line();
  r.nul = d.saw_nul();
  r.longest = d.longest_line();
  r.message_bytes = d.message_bytes();
  return r;
}

Result decode(BareLineEnding mode, std::string_view in, std::size_t max_line = kMaxLine) {
  return decode_chunks(mode, in, {}, max_line);
}

Result decode_bytewise(BareLineEnding mode, std::string_view in, std::size_t max_line = kMaxLine) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < in.size(); ++i) cuts.push_back(i);
  return decode_chunks(mode, in, cuts, max_line);
}

// A deliberately naive reference: whole input at once, one byte at a time,
// lines tracked by a flag. It does what the header promises, written apart
// from the real decoder's state machine.
Result reference(BareLineEnding mode, std::string_view in, std::size_t max_line = kMaxLine) {
  Result r;
  const bool normalize = mode == BareLineEnding::normalize;
  bool after_crlf = true;  // the 354 came after the DATA command's CRLF
  std::size_t line = 0;
  auto end_line = [&] {
    r.longest = std::max(r.longest, line + 2);
    line = 0;
  };
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n) {
    if (after_crlf) {
      after_crlf = false;
      if (in.substr(i, 3) == ".\r\n") {
        r.finished = true;
        i += 3;
        break;
      }
      if (in[i] == '.') {
        if (i + 1 == n || (in[i + 1] == '\r' && i + 2 == n)) break;  // undecided yet
        ++i;  // stuffing
        continue;
      }
    }
    const char c = in[i];
    if (c == '\r') {
      if (i + 1 == n) break;  // undecided yet
      if (in[i + 1] == '\n') {
        r.out += "\r\n";
        i += 2;
        end_line();
        after_crlf = true;
        continue;
      }
      r.bare_cr = true;
      r.out += normalize ? "\r\n"s : "\r"s;
      end_line();
    } else if (c == '\n') {
      r.bare_lf = true;
      r.out += normalize ? "\r\n"s : "\n"s;
      end_line();
    } else {
      if (c == '\0') r.nul = true;
      r.out += c;
      ++line;
    }
    ++i;
  }
  if (line > 0) r.longest = std::max(r.longest, line + 2);
  r.overlong = r.longest > max_line;
  r.consumed = r.finished ? i : n;
  r.message_bytes = r.out.size();
  return r;
}

// Where the data must end, found by plain search: the first ".\r\n" at the
// start of the input or right after a CRLF. npos if none.
std::size_t expected_end(std::string_view in) {
  for (std::size_t i = 0; i + 3 <= in.size(); ++i) {
    if (in.substr(i, 3) == ".\r\n" && (i == 0 || (i >= 2 && in.substr(i - 2, 2) == "\r\n")))
      return i + 3;
  }
  return std::string_view::npos;
}

// No CR without LF after it, no LF without CR before it.
bool only_crlf(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

const BareLineEnding kModes[] = {BareLineEnding::reject, BareLineEnding::normalize};

// Every split into two and three chunks, and byte by byte, equals one feed.
void expect_split_invariant(BareLineEnding mode, const std::string& in) {
  const Result whole = decode(mode, in);
  EXPECT_EQ(decode_bytewise(mode, in), whole);
  for (std::size_t i = 0; i <= in.size(); ++i) {
    EXPECT_EQ(decode_chunks(mode, in, {i}), whole) << "split at " << i;
    if (in.size() <= 40) {
      for (std::size_t j = i; j <= in.size(); ++j)
        EXPECT_EQ(decode_chunks(mode, in, {i, j}), whole) << "split at " << i << "," << j;
    }
  }
}

TEST(DataDecoder, EmptyMessageEndsAtFirstLine) {
  for (auto mode : kModes) {
    const Result r = decode(mode, ".\r\n");
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(r.consumed, 3u);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.message_bytes, 0u);
    EXPECT_EQ(r.longest, 0u);
  }
}

TEST(DataDecoder, PlainMessage) {
  const std::string body = "Subject: hi\r\n\r\nline one\r\nline two\r\n";
  for (auto mode : kModes) {
    const Result r = decode(mode, body + ".\r\n");
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(r.consumed, body.size() + 3);
    EXPECT_EQ(r.out, body);
    EXPECT_EQ(r.message_bytes, body.size());
    EXPECT_FALSE(r.bare_cr || r.bare_lf || r.overlong || r.nul);
    EXPECT_EQ(r.longest, 13u);  // "Subject: hi\r\n"
  }
}

TEST(DataDecoder, DotUnstuffing) {
  // RFC 5321 4.5.2: a leading dot is removed; dots elsewhere stay.
  for (auto mode : kModes) {
    const Result r = decode(mode, "..x\r\n...\r\n..\r\na.b.\r\n.a\r\n.\r\n");
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(r.out, ".x\r\n..\r\n.\r\na.b.\r\na\r\n");
  }
  const Result first = decode(BareLineEnding::reject, "..\r\n.\r\n");
  EXPECT_EQ(first.out, ".\r\n");
}

TEST(DataDecoder, DotWithoutPrecedingCrlfIsNotTheEnd) {
  for (auto mode : kModes) {
    const Result r = decode(mode, "abc.\r\n");
    EXPECT_FALSE(r.finished);
    EXPECT_EQ(r.consumed, 6u);
    EXPECT_EQ(r.out, "abc.\r\n");
    // The line after it can end the data.
    const Result r2 = decode(mode, "abc.\r\n.\r\n");
    EXPECT_TRUE(r2.finished);
    EXPECT_EQ(r2.out, "abc.\r\n");
    // A dot line with more on it is not the end either.
    EXPECT_FALSE(decode(mode, "a\r\n. \r\n.x\r\n").finished);
  }
}

TEST(DataDecoder, PipelinedBytesAfterEndAreNotConsumed) {
  const std::string in = "hello\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n";
  for (auto mode : kModes) {
    DataDecoder d(mode, kMaxLine);
    std::string out;
    const auto step = d.feed(in, out);
    EXPECT_TRUE(step.finished);
    EXPECT_EQ(step.consumed, 10u);
    EXPECT_EQ(in.substr(step.consumed), "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
    EXPECT_EQ(out, "hello\r\n");
    // Once finished, nothing more is taken until reset().
    const auto again = d.feed(in.substr(step.consumed), out);
    EXPECT_TRUE(again.finished);
    EXPECT_EQ(again.consumed, 0u);
    EXPECT_EQ(out, "hello\r\n");
  }
  // The end marker split over feeds, commands in the same packet as its LF.
  DataDecoder d(BareLineEnding::reject, kMaxLine);
  std::string out;
  EXPECT_EQ(d.feed("hello\r\n.", out).consumed, 8u);
  EXPECT_EQ(d.feed("\r", out).consumed, 1u);
  const auto step = d.feed("\nQUIT\r\n", out);
  EXPECT_TRUE(step.finished);
  EXPECT_EQ(step.consumed, 1u);
  EXPECT_EQ(out, "hello\r\n");
}

// SEC Consult's SMTP smuggling (2023): a second message hidden after an end
// marker that some server might accept. None of these may end the data.
const std::string kSmugglingMarkers[] = {
    "\n.\n"s,       "\n.\r\n"s,     "\r.\r"s,          "\r\n.\n"s,     "\r.\r\n"s,
    "\r\n.\r"s,     "\r.\n"s,       "\n.\r"s,          "\r."s,         "\n."s,
    "\r\n.\r\r\n"s, "\r\n.\n\r\n"s, "\r\r\n.\n"s,      "\n\r.\r\n"s,   "\r\n\r.\r\n"s,
    "\r\n\n.\r\n"s, "\r\n. \r\n"s,   "\r\n.\x00\r\n"s, "\r\n..\r\n"s,
};

TEST(DataDecoder, SmugglingMarkersNeverEndTheData) {
  const std::string smuggled =
      "MAIL FROM:<admin@victim.example>\r\nRCPT TO:<user@victim.example>\r\nDATA\r\n"
      "From: admin@victim.example\r\n\r\nforged\r\n";
  for (auto mode : kModes) {
    for (const char* prefix : {"", "Subject: a\r\n\r\nhello"}) {
      for (const std::string& marker : kSmugglingMarkers) {
        const std::string in = prefix + marker + smuggled;
        SCOPED_TRACE(testing::PrintToString(in));
        const Result open = decode(mode, in);
        EXPECT_FALSE(open.finished);
        EXPECT_EQ(open.consumed, in.size());
        // Only the real marker ends it, and the smuggled commands are content.
        const std::string full = in + ".\r\n";
        const Result r = decode(mode, full);
        EXPECT_TRUE(r.finished);
        EXPECT_EQ(r.consumed, full.size());
        EXPECT_NE(r.out.find("MAIL FROM:<admin@victim.example>\r\n"), std::string::npos);
        EXPECT_EQ(decode_bytewise(mode, full), r);
        if (mode == BareLineEnding::normalize) {
          EXPECT_TRUE(only_crlf(r.out));
        } else if (only_crlf(marker)) {
          EXPECT_FALSE(r.bare_cr || r.bare_lf);
        } else {
          EXPECT_TRUE(r.bare_cr || r.bare_lf);
        }
      }
    }
  }
}

TEST(DataDecoder, SmugglingMarkerFlagsInRejectMode) {
  struct Case {
    std::string in;
    bool cr, lf;
  };
  const Case cases[] = {
      {"a\n.\nb\r\n.\r\n", false, true},   {"a\n.\r\nb\r\n.\r\n", false, true},
      {"a\r.\rb\r\n.\r\n", true, false},   {"a\r\n.\nb\r\n.\r\n", false, true},
      {"a\r.\r\nb\r\n.\r\n", true, false}, {"a\r\n.\rb\r\n.\r\n", true, false},
      {"a\r.\nb\r\n.\r\n", true, true},    {".\n.\r\n.\r\n", false, true},
      {"\n.\r\n.\r\n", false, true},       {"a\r\r\n.\r\n", true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.in));
    const Result r = decode(BareLineEnding::reject, c.in);
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(r.consumed, c.in.size()) << "only the final marker may end it";
    EXPECT_EQ(r.bare_cr, c.cr);
    EXPECT_EQ(r.bare_lf, c.lf);
    // Reject mode passes bare endings through: output is never larger.
    EXPECT_LE(r.out.size(), r.consumed);
  }
}

TEST(DataDecoder, NormalizeRewritesBareEndingsAndKeepsTheirDots) {
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      // A dot after a bare ending is plain content, kept for the relay to stuff.
      {"a\n.\nb\r\n.\r\n", "a\r\n.\r\nb\r\n"},
      {"a\n.\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n"},
      {"a\r.\rb\r\n.\r\n", "a\r\n.\r\nb\r\n"},
      {"a\r.\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n"},
      {"a\n..\r\n.\r\n", "a\r\n..\r\n"},
      {"\n.\n.\r\n.\r\n", "\r\n.\r\n.\r\n"},
      // After a real CRLF the dot is stuffing, whatever follows it.
      {"a\r\n.\nb\r\n.\r\n", "a\r\n\r\nb\r\n"},
      {"a\r\n.\rb\r\n.\r\n", "a\r\n\r\nb\r\n"},
      {"a\r\n.\r\rb\r\n.\r\n", "a\r\n\r\n\r\nb\r\n"},
      {".\n.\r\n.\r\n", "\r\n.\r\n"},
      {"x\r\r\n.\r\n", "x\r\n\r\n"},
      {"x\n\r\n.\r\n", "x\r\n\r\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.in));
    const Result r = decode(BareLineEnding::normalize, c.in);
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(r.consumed, c.in.size());
    EXPECT_EQ(r.out, c.out);
    EXPECT_TRUE(r.bare_cr || r.bare_lf);
    EXPECT_EQ(r.message_bytes, c.out.size());
  }
}

TEST(DataDecoder, NormalizedOutputReencodesToItself) {
  // Dot-stuff the normalised content as a relay would (RFC 5321 4.5.2) and
  // decode it again: same content, one end marker, no bare endings.
  const std::string in = "a\n.\nb\r.\rc\r\n.\nd\n..\r\n.x\r\n.\r\n";
  const Result r = decode(BareLineEnding::normalize, in);
  ASSERT_TRUE(r.finished);
  std::string wire;
  bool at_start = true;
  for (char c : r.out) {
    if (at_start && c == '.') wire += '.';
    wire += c;
    at_start = c == '\n';
  }
  wire += ".\r\n";
  const Result again = decode(BareLineEnding::reject, wire);
  EXPECT_TRUE(again.finished);
  EXPECT_EQ(again.consumed, wire.size());
  EXPECT_EQ(again.out, r.out);
  EXPECT_FALSE(again.bare_cr || again.bare_lf);
}

TEST(DataDecoder, OverlongLinesAreFlaggedAndStillDecoded) {
  for (auto mode : kModes) {
    // 8 bytes + CRLF = 10: at the limit, not over it.
    Result r = decode(mode, "12345678\r\n.\r\n", 10);
    EXPECT_TRUE(r.finished);
    EXPECT_FALSE(r.overlong);
    EXPECT_EQ(r.longest, 10u);
    // A stuffed dot does not count (RFC 5321 4.5.3.1.6).
    r = decode(mode, "..2345678\r\n.\r\n", 10);
    EXPECT_FALSE(r.overlong);
    EXPECT_EQ(r.out, ".2345678\r\n");
    r = decode(mode, "123456789\r\nok\r\n.\r\n", 10);
    EXPECT_TRUE(r.finished);
    EXPECT_TRUE(r.overlong);
    EXPECT_EQ(r.longest, 11u);
    EXPECT_EQ(r.out, "123456789\r\nok\r\n");
  }
  // Flagged while the line is still arriving, before its CRLF.
  DataDecoder d(BareLineEnding::reject, 10);
  std::string out;
  d.feed("12345678", out);
  EXPECT_FALSE(d.saw_overlong_line());
  d.feed("9", out);
  EXPECT_TRUE(d.saw_overlong_line());
  EXPECT_EQ(d.longest_line(), 11u);
}

TEST(DataDecoder, HugeLineStreamsThrough) {
  // 8 MiB without a line ending, fed in 64 KiB reads: decoded as it comes,
  // the caller's buffer emptied after each feed as a spool writer would.
  DataDecoder d(BareLineEnding::reject, kMaxLine);
  const std::string chunk(64 * 1024, 'x');
  std::string out;
  std::uint64_t total = 0;
  for (int i = 0; i < 128; ++i) {
    const auto step = d.feed(chunk, out);
    ASSERT_EQ(step.consumed, chunk.size());
    ASSERT_FALSE(step.finished);
    ASSERT_EQ(out.size(), chunk.size());
    total += out.size();
    out.clear();
  }
  const auto step = d.feed("\r\n.\r\n", out);
  EXPECT_TRUE(step.finished);
  EXPECT_EQ(out, "\r\n");
  EXPECT_TRUE(d.saw_overlong_line());
  EXPECT_EQ(d.longest_line(), 128u * 64 * 1024 + 2);
  EXPECT_EQ(d.message_bytes(), total + 2);
}

TEST(DataDecoder, RunsOfBareEndingsStayLinear) {
  // A quadratic rescan would make these take minutes.
  for (char c : {'\r', '\n'}) {
    for (auto mode : kModes) {
      std::string in(1 << 20, c);
      in += "x\r\n.\r\n";
      const Result r = decode(mode, in);
      EXPECT_TRUE(r.finished);
      EXPECT_EQ(r.consumed, in.size());
      EXPECT_EQ(r.out.size(), mode == BareLineEnding::normalize ? (2u << 20) + 3 : (1u << 20) + 3);
    }
  }
  std::string mixed;
  for (int i = 0; i < (1 << 18); ++i) mixed += "a\rb";
  mixed += "\n\r\n.\r\n";
  const Result r = decode(BareLineEnding::reject, mixed);
  EXPECT_TRUE(r.finished);
  EXPECT_TRUE(r.bare_cr && r.bare_lf);
}

TEST(DataDecoder, NulIsFlaggedAndPassedThrough) {
  for (auto mode : kModes) {
    const std::string in = "a\0b\r\n\0\r\n.\r\n"s;
    const Result r = decode(mode, in);
    EXPECT_TRUE(r.finished);
    EXPECT_TRUE(r.nul);
    EXPECT_EQ(r.out, "a\0b\r\n\0\r\n"s);
    EXPECT_FALSE(decode(mode, "ab\r\n.\r\n\0"s).nul) << "bytes after the end are not ours";
    EXPECT_TRUE(decode(mode, ".\0\r\n.\r\n"s).nul);
  }
}

TEST(DataDecoder, AppendsToOutputAndCountsBytes) {
  DataDecoder d(BareLineEnding::normalize, kMaxLine);
  std::string out = "existing:";
  d.feed("a\nb", out);
  d.feed("\r", out);
  EXPECT_EQ(out, "existing:a\r\nb");
  EXPECT_EQ(d.message_bytes(), 4u);
  const auto step = d.feed("\n.\r\n", out);
  EXPECT_TRUE(step.finished);
  EXPECT_EQ(out, "existing:a\r\nb\r\n");
  EXPECT_EQ(d.message_bytes(), 6u);
}

TEST(DataDecoder, ResetStartsAFreshMessage) {
  DataDecoder d(BareLineEnding::reject, 5);
  std::string out;
  EXPECT_TRUE(d.feed("toolong\n\0\r\n.\r\n"s, out).finished);
  EXPECT_TRUE(d.saw_bare_lf() && d.saw_overlong_line() && d.saw_nul());
  d.reset();
  EXPECT_FALSE(d.finished());
  EXPECT_FALSE(d.saw_bare_cr() || d.saw_bare_lf() || d.saw_overlong_line() || d.saw_nul());
  EXPECT_EQ(d.longest_line(), 0u);
  EXPECT_EQ(d.message_bytes(), 0u);
  out.clear();
  // Back at the start of data: ".\r\n" ends an empty message again.
  const auto step = d.feed(".\r\n", out);
  EXPECT_TRUE(step.finished);
  EXPECT_EQ(step.consumed, 3u);
  EXPECT_EQ(out, "");
}

TEST(DataDecoder, EverySplitPointGivesTheSameResult) {
  std::vector<std::string> inputs = {
      ".\r\n",
      "..\r\n.\r\n",
      "abc.\r\n.\r\n",
      "a\r\n.\r\nQUIT\r\n",
      "a\r\n.\rb\r\n.\r\n",
      "a\r\n.\nb\r\n.\r\nX",
      "a\n.\nb\r.\rc\r\n.\r\r\n.\r\n",
      "\r\r\n\n\r\n..\r\n.\r",
      "x\0y\r\n...\r\n\r\n.\r\nMAIL\r\n"s,
      "Subject: t\r\n\r\nbody\n.\r\n.\n\r\n.x\r\n..\r\n.\r\n",
  };
  for (const auto& m : kSmugglingMarkers) inputs.push_back("a" + m + "b\r\n.\r\n");
  for (auto mode : kModes) {
    for (const auto& in : inputs) {
      SCOPED_TRACE(testing::PrintToString(in));
      expect_split_invariant(mode, in);
      EXPECT_EQ(decode(mode, in), reference(mode, in));
    }
  }
}

TEST(DataDecoder, MatchesReferenceOnRandomInput) {
  // Inputs dense in the bytes that matter, random cuts, both modes; plus the
  // end position checked against a plain search for CRLF "." CRLF.
  std::mt19937 rng(20231218);
  const char alphabet[] = {'\r', '\n', '.', 'a', '\0', '\r', '\n', '.'};
  std::uniform_int_distribution<int> pick(0, sizeof alphabet - 1);
  std::uniform_int_distribution<std::size_t> length(0, 48);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string in;
    for (std::size_t n = length(rng); n > 0; --n) in += alphabet[pick(rng)];
    std::vector<std::size_t> cuts;
    std::uniform_int_distribution<std::size_t> cut(0, in.size());
    for (int k = 0; k < 3; ++k) cuts.push_back(cut(rng));
    std::sort(cuts.begin(), cuts.end());
    const std::size_t max_line = 2 + iter % 7;
    for (auto mode : kModes) {
      SCOPED_TRACE(testing::PrintToString(in));
      const Result ref = reference(mode, in, max_line);
      const Result whole = decode(mode, in, max_line);
      ASSERT_EQ(whole, ref);
      ASSERT_EQ(decode_chunks(mode, in, cuts, max_line), ref);
      const std::size_t end = expected_end(in);
      ASSERT_EQ(whole.finished, end != std::string_view::npos);
      if (whole.finished) {
        ASSERT_EQ(whole.consumed, end);
      }
      ASSERT_EQ(whole.overlong, whole.longest > max_line);
      if (mode == BareLineEnding::normalize) {
        ASSERT_TRUE(only_crlf(whole.out));
      }
    }
  }
}

}  // namespace
}  // namespace sluice::protocol
