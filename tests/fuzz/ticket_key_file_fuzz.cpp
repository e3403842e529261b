// ticket_key_file_fuzz.cpp — libFuzzer target for the shared ticket-key
// file format (TicketKeys::parse_key_text, tls/ticket_keys.hpp): the content
// of `tls.ticket_key_file` as an operator or a Secret mount supplies it.
// Beyond "no crash" (ASan), it checks that a file that parses gives one key
// per line that is neither blank nor a comment (none skipped, none split),
// at most 64 of them, no error text; that a refused file says why; and that
// the keys, written back one per line in canonical base64, parse to the same
// keys in the same order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tls/ticket_keys.hpp"

using sluice::tls::TicketKey;
using sluice::tls::TicketKeys;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Lines the format counts as keys: after trimming spaces, tabs and CRs,
// neither empty nor starting with '#'. Written from the format's description
// (tls/ticket_keys.hpp), not from the parser.
std::size_t key_lines(std::string_view text) {
  std::size_t n = 0;
  while (true) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#') ++n;
    if (nl == std::string_view::npos) return n;
    text.remove_prefix(nl + 1);
  }
}

std::string base64(const std::uint8_t* p, std::size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (i + 1 < n ? std::uint32_t{p[i + 1]} << 8 : 0) |
                            (i + 2 < n ? std::uint32_t{p[i + 2]} : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[v & 63] : '=';
  }
  return out;
}

bool same(const TicketKey& a, const TicketKey& b) { return a.name == b.name && a.secret == b.secret; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<TicketKey> keys;
  std::string error;
  if (!TicketKeys::parse_key_text(text, keys, error)) {
    check(!error.empty());
    return 0;
  }
  check(error.empty());
  check(keys.size() <= 64);
  check(keys.size() == key_lines(text));

  std::string canonical;
  for (const auto& k : keys) {
    std::uint8_t raw[48];
    std::copy(k.name.begin(), k.name.end(), raw);
    std::copy(k.secret.begin(), k.secret.end(), raw + 16);
    canonical += base64(raw, sizeof raw) + "\n";
  }
  std::vector<TicketKey> again;
  check(TicketKeys::parse_key_text(canonical, again, error));
  check(again.size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) check(same(again[i], keys[i]));
  return 0;
}
