// libFuzzer target for protocol::DataDecoder (RFC 5321 4.1.1.4, 4.5.2).
//
// Input: byte 0 picks the mode and line limit, bytes 1-4 pick two cut
// points, the rest is DATA-phase input. Checks, aborting on any breach:
// - split invariance: one feed, two chunks and three chunks give the same
//   output, end position and flags;
// - the end is exactly the first ".\r\n" at offset 0 or right after a CRLF
//   (the SMTP smuggling defence), and nothing after it is consumed;
// - the flags match plain scans of the consumed input;
// - output bounds (reject <= input, normalize <= 2x input) and, in normalize
//   mode, no bare CR or LF in the output, and re-stuffing the output and
//   decoding it again gives it back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/data_decoder.hpp"

namespace {

using sluice::protocol::BareLineEnding;
using sluice::protocol::DataDecoder;

struct Outcome {
  std::string out;
  std::size_t consumed = 0;
  bool finished = false;
  bool bare_cr = false, bare_lf = false, overlong = false, nul = false;
  std::size_t longest = 0;
  std::uint64_t message_bytes = 0;
  bool operator==(const Outcome&) const = default;
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "data_decoder_fuzz: %s\n", what);
    std::abort();
  }
}

// Feeds in[0, a), in[a, b), in[b, end) as a session would.
Outcome run(BareLineEnding mode, std::size_t max_line, std::string_view in, std::size_t a,
            std::size_t b) {
  DataDecoder d(mode, max_line);
  Outcome o;
  const std::size_t ends[] = {a, b, in.size()};
  std::size_t from = 0;
  for (std::size_t to : ends) {
    const auto step = d.feed(in.substr(from, to - from), o.out);
    o.consumed += step.consumed;
    if (step.finished) {
      o.finished = true;
      break;
    }
    check(step.consumed == to - from, "unfinished feed left input unconsumed");
    from = to;
  }
  check(d.finished() == o.finished, "finished() disagrees with Step");
  if (o.finished) check(d.feed("x", o.out).consumed == 0, "consumed after the end");
  o.bare_cr = d.saw_bare_cr();
  o.bare_lf = d.saw_bare_lf();
  o.overlong = d.saw_overlong_line();
  o.nul = d.saw_nul();
  o.longest = d.longest_line();
  o.message_bytes = d.message_bytes();
  return o;
}

std::size_t expected_end(std::string_view in) {
  for (std::size_t i = 0; i + 3 <= in.size(); ++i) {
    if (in.compare(i, 3, ".\r\n") == 0 && (i == 0 || (i >= 2 && in.compare(i - 2, 2, "\r\n") == 0)))
      return i + 3;
  }
  return std::string_view::npos;
}

bool only_crlf(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

void check_one(BareLineEnding mode, std::size_t max_line, std::string_view in, std::size_t a,
               std::size_t b) {
  const Outcome whole = run(mode, max_line, in, in.size(), in.size());
  check(run(mode, max_line, in, a, a) == whole, "two chunks differ from one feed");
  check(run(mode, max_line, in, a, b) == whole, "three chunks differ from one feed");

  const std::size_t end = expected_end(in);
  check(whole.finished == (end != std::string_view::npos), "end of data found or missed wrongly");
  check(whole.consumed == (whole.finished ? end : in.size()), "wrong number of bytes consumed");

  // Flags against scans of what was consumed. A CR as the last byte of
  // unfinished input is still undecided, so not yet bare.
  const std::string_view used = in.substr(0, whole.consumed);
  bool cr = false, lf = false;
  for (std::size_t i = 0; i < used.size(); ++i) {
    if (used[i] == '\r' && i + 1 < used.size() && used[i + 1] != '\n') cr = true;
    if (used[i] == '\n' && (i == 0 || used[i - 1] != '\r')) lf = true;
  }
  check(whole.bare_cr == cr, "saw_bare_cr wrong");
  check(whole.bare_lf == lf, "saw_bare_lf wrong");
  check(whole.nul == (used.find('\0') != std::string_view::npos), "saw_nul wrong");
  check(whole.overlong == (whole.longest > max_line), "overlong flag disagrees with longest_line");
  check(whole.message_bytes == whole.out.size(), "message_bytes wrong");
  check(whole.out.size() <= (mode == BareLineEnding::normalize ? 2 : 1) * whole.consumed,
        "output larger than its bound");
  if (mode == BareLineEnding::normalize || (!cr && !lf))
    check(only_crlf(whole.out), "bare ending in output");

  // Relay round trip (RFC 5321 4.5.2): stuff, add the end marker, decode.
  if (whole.finished && only_crlf(whole.out)) {
    std::string wire;
    bool at_start = true;
    for (char c : whole.out) {
      if (at_start && c == '.') wire += '.';
      wire += c;
      at_start = c == '\n';
    }
    wire += ".\r\n";
    const Outcome again = run(BareLineEnding::reject, max_line, wire, wire.size(), wire.size());
    check(again.finished && again.consumed == wire.size(), "re-stuffed output did not end once");
    check(again.out == whole.out, "re-stuffed output decoded differently");
    check(!again.bare_cr && !again.bare_lf, "re-stuffed output has bare endings");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const std::uint8_t control = data[0];
  const std::size_t max_lines[] = {2, 3, 5, 8, 16, 78, 1000, 1u << 20};
  const std::size_t max_line = max_lines[(control >> 1) & 7];
  std::string_view in(reinterpret_cast<const char*>(data + 5), size - 5);
  std::size_t a = (std::size_t{data[1]} | std::size_t{data[2]} << 8) % (in.size() + 1);
  std::size_t b = (std::size_t{data[3]} | std::size_t{data[4]} << 8) % (in.size() + 1);
  if (a > b) std::swap(a, b);

  check_one(BareLineEnding::reject, max_line, in, a, b);
  check_one(BareLineEnding::normalize, max_line, in, a, b);
  // The mode only changes how bare endings are written.
  const Outcome rej = run(BareLineEnding::reject, max_line, in, in.size(), in.size());
  const Outcome nor = run(BareLineEnding::normalize, max_line, in, in.size(), in.size());
  check(rej.consumed == nor.consumed && rej.finished == nor.finished, "modes disagree on the end");
  if (!rej.bare_cr && !rej.bare_lf) check(rej == nor, "modes differ without bare endings");
  return 0;
}
