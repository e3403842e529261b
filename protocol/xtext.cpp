#include "protocol/xtext.hpp"

namespace sluice::protocol {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

// RFC 3461 section 4: xchar is '!'..'~' except '+' and '='.
bool is_xchar(unsigned char c) { return c >= 33 && c <= 126 && c != '+' && c != '='; }

// Upper-case hex only (see the header for why lower case is refused).
int upper_hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> xtext_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c != '+') {
      if (!is_xchar(c)) return std::nullopt;
      out += static_cast<char>(c);
      continue;
    }
    // hexchar = "+" 2 upper-case HEXDIG; a '+' at the end or followed by
    // one digit is malformed, not a literal '+'.
    if (in.size() - i < 3) return std::nullopt;
    const int hi = upper_hex_value(in[i + 1]);
    const int lo = upper_hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string xtext_encode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_xchar(c)) {
      out += ch;
    } else {
      out += '+';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 0x0f];
    }
  }
  return out;
}

}  // namespace sluice::protocol
