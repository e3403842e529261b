// proxy_header.cpp — PROXY protocol v1/v2 parsing; see proxy_header.hpp.
//
// Shape: the dispatcher picks the version from the first bytes (notes §4), then
// each version walks its fields in wire order. Every step either has enough
// bytes and validates them, or runs out and reports "valid prefix so far"; so
// an incremental caller gets need_more exactly while a header is still
// possible, and the first bad byte (or field) turns into an error.
#include "protocol/proxy_header.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

namespace sluice::protocol {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
// PP 2.2: contains a NUL, so it must never be handled as a C string.
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t kIpv4TextMax = 15;  // "255.255.255.255"
constexpr std::size_t kIpv6TextMax = 45;  // INET6_ADDRSTRLEN - 1 (IPv4-mapped tail)

ProxyParseResult need_more() { return {}; }

ProxyParseResult fail(const char* reason) {
  ProxyParseResult r;
  r.status = ProxyParseStatus::error;
  r.error = reason;
  return r;
}

std::uint8_t byte_at(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}

// True if the shorter of `bytes` and `literal` is a prefix of the other.
bool matches_so_far(std::string_view bytes, std::string_view literal) {
  const std::size_t n = bytes.size() < literal.size() ? bytes.size() : literal.size();
  return bytes.substr(0, n) == literal.substr(0, n);
}

// ---- CRC-32C (reflected polynomial 0x82F63B78, RFC 4960 appendix B) --------

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

// Running state, before the final inversion, so a header can be summed in pieces.
std::uint32_t crc32c_update(std::uint32_t state, std::string_view bytes) {
  for (unsigned char b : bytes) state = kCrc32cTable[(state ^ b) & 0xFF] ^ (state >> 8);
  return state;
}

// ---- v1 (PP 2.1, notes §2) -------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_token_char(char c) { return (c >= 'A' && c <= 'Z') || is_digit(c); }
bool is_ipv4_char(char c) { return is_digit(c) || c == '.'; }
bool is_ipv6_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// One v1 field: the run of bytes from `pos` within the field's character set,
// and the byte that ended it, if the input has one yet.
struct Field {
  std::string_view text;
  bool ended = false;
  char delimiter = 0;
};

template <class InSet>
Field scan_field(std::string_view in, std::size_t pos, InSet in_set) {
  std::size_t end = pos;
  while (end < in.size() && in_set(in[end])) ++end;
  Field f;
  f.text = in.substr(pos, end - pos);
  if (end < in.size()) {
    f.ended = true;
    f.delimiter = in[end];
  }
  return f;
}

bool is_protocol_prefix(std::string_view t) {
  for (std::string_view p : {"TCP4", "TCP6", "UNKNOWN"})
    if (t.size() <= p.size() && p.substr(0, t.size()) == t) return true;
  return false;
}

// True while the text can still become a dotted quad: at most four groups of
// 1-3 digits, each <= 255, none with a leading zero (PP 2.1 forbids them
// against octal confusion, and POSIX inet_pton does not promise to reject
// them); only the last, still growing, group may be empty. A complete address
// must also pass inet_pton, which checks that there are exactly four groups.
bool ipv4_prefix_ok(std::string_view s) {
  int groups = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = s.find('.', start);
    const bool last = dot == std::string_view::npos;
    const std::string_view g = s.substr(start, last ? std::string_view::npos : dot - start);
    if (++groups > 4) return false;
    if (g.empty()) return last;
    if (g.size() > 3 || (g.size() > 1 && g[0] == '0')) return false;
    int v = 0;
    for (char c : g) v = v * 10 + (c - '0');
    if (v > 255) return false;
    if (last) return true;
    start = dot + 1;
  }
}

bool address_prefix_ok(std::string_view s, bool v6) {
  if (!v6) return ipv4_prefix_ok(s);
  // A full prefix check of IPv6 text is not worth its code: the complete
  // field goes through inet_pton when its delimiter arrives.
  return s.size() <= kIpv6TextMax && s.find(":::") == std::string_view::npos;
}

// Validates a complete address with inet_pton for the family and stores it in
// the canonical form inet_ntop gives, so "2001:DB8:0::1" compares equal to
// "2001:db8::1" in policy and logs.
bool parse_address(std::string_view s, bool v6, std::string& out) {
  if (s.empty() || s.size() > (v6 ? kIpv6TextMax : kIpv4TextMax)) return false;
  if (!v6 && !ipv4_prefix_ok(s)) return false;
  char text[kIpv6TextMax + 1] = {};
  std::memcpy(text, s.data(), s.size());
  const int af = v6 ? AF_INET6 : AF_INET;
  unsigned char raw[sizeof(in6_addr)];
  if (inet_pton(af, text, raw) != 1) return false;
  char canonical[INET6_ADDRSTRLEN];
  if (!inet_ntop(af, raw, canonical, sizeof canonical)) return false;
  out = canonical;
  return true;
}

// Decimal 0-65535, at most 5 digits, no leading zero (PP 2.1); no sign, since
// the field's character set stops at '+' or '-'. With `complete` false only
// the prefix rules apply.
bool port_ok(std::string_view digits, bool complete, std::uint16_t* out) {
  if (digits.empty()) return !complete;
  if (digits.size() > 5 || (digits.size() > 1 && digits[0] == '0')) return false;
  std::uint32_t v = 0;
  for (char c : digits) v = v * 10 + static_cast<std::uint32_t>(c - '0');
  if (v > 65535) return false;
  if (out) *out = static_cast<std::uint16_t>(v);
  return true;
}

// "UNKNOWN" then CRLF, or SP and anything up to CRLF, which the receiver must
// ignore (PP 2.1). A bare LF, or a CR followed by anything but LF, never ends
// the line.
ProxyParseResult finish_unknown(std::string_view in, std::size_t pos, bool capped) {
  const auto starved = [&] { return capped ? fail("v1: no CRLF within 107 bytes") : need_more(); };
  if (pos == in.size()) return starved();
  if (in[pos] != ' ' && in[pos] != '\r') return fail("v1: unknown protocol");
  const std::size_t eol = in.find_first_of("\r\n", pos);
  if (eol == std::string_view::npos) return starved();
  if (in[eol] == '\n') return fail("v1: line must end with CRLF");
  if (eol + 1 == in.size()) return starved();
  if (in[eol + 1] != '\n') return fail("v1: line must end with CRLF");
  ProxyParseResult r;
  r.status = ProxyParseStatus::done;
  r.consumed = eol + 2;
  r.header.version = 1;
  r.header.local = true;
  return r;
}

ProxyParseResult parse_v1(std::string_view bytes) {
  // Never look past byte 107: if a header is still incomplete there, it can
  // no longer become one (PP 2.1: no CRLF in the first 107 bytes -> invalid).
  const std::string_view in = bytes.substr(0, kProxyV1MaxLength);
  const bool capped = bytes.size() >= kProxyV1MaxLength;
  const auto starved = [&] { return capped ? fail("v1: no CRLF within 107 bytes") : need_more(); };

  std::size_t pos = kV1Prefix.size();
  const Field proto = scan_field(in, pos, is_token_char);
  if (!proto.ended) return is_protocol_prefix(proto.text) ? starved() : fail("v1: unknown protocol");
  if (proto.text == "UNKNOWN") return finish_unknown(in, pos + proto.text.size(), capped);
  if ((proto.text != "TCP4" && proto.text != "TCP6") || proto.delimiter != ' ')
    return fail("v1: unknown protocol");
  pos += proto.text.size() + 1;

  ProxyParseResult r;
  ProxyHeader& h = r.header;
  h.version = 1;
  h.ipv6 = proto.text == "TCP6";
  // Both addresses use the family the protocol names (PP 2.1), one SP after each.
  for (std::string* out : {&h.src_addr, &h.dst_addr}) {
    const Field f = scan_field(in, pos, h.ipv6 ? is_ipv6_char : is_ipv4_char);
    if (!f.ended) return address_prefix_ok(f.text, h.ipv6) ? starved() : fail("v1: bad address");
    if (f.delimiter != ' ' || !parse_address(f.text, h.ipv6, *out)) return fail("v1: bad address");
    pos += f.text.size() + 1;
  }
  for (std::uint16_t* out : {&h.src_port, &h.dst_port}) {
    const bool last = out == &h.dst_port;
    const Field f = scan_field(in, pos, is_digit);
    if (!f.ended) return port_ok(f.text, false, nullptr) ? starved() : fail("v1: bad port");
    if (last && f.delimiter == '\n') return fail("v1: line must end with CRLF");
    if (f.delimiter != (last ? '\r' : ' ') || !port_ok(f.text, true, out))
      return fail("v1: bad port");
    pos += f.text.size() + 1;
  }
  // The CR is consumed; a lone CR does not end the line (PP 2.1).
  if (pos == in.size()) return starved();
  if (in[pos] != '\n') return fail("v1: line must end with CRLF");
  r.status = ProxyParseStatus::done;
  r.consumed = pos + 1;
  return r;
}

// ---- v2 (PP 2.2, notes §3) -------------------------------------------------

// Address block size by family nibble (PP 2.2): UNSPEC carries none, UNIX
// two 108-byte paths. Ports are included for INET/INET6.
std::size_t address_block_size(unsigned family) {
  switch (family) {
    case 1: return 12;
    case 2: return 36;
    case 3: return 216;
    default: return 0;
  }
}

std::string address_text(int af, std::string_view raw) {
  char text[INET6_ADDRSTRLEN] = {};
  // Cannot fail for a 4- or 16-byte input and a buffer this size.
  inet_ntop(af, raw.data(), text, sizeof text);
  return text;
}

std::uint16_t read_u16(std::string_view s, std::size_t at) {
  return static_cast<std::uint16_t>(byte_at(s, at) << 8 | byte_at(s, at + 1));
}

// TLVs fill the rest of the header exactly: type, 16-bit length, value
// (PP 2.2). Anything left over or overrunning is malformed. A CRC32C TLV must
// be 4 bytes, appear once, and match the header summed with its value zeroed
// (PP 2.2.3: a mismatch invalidates the header).
const char* read_tlvs(std::string_view header, std::size_t pos, ProxyHeader& out) {
  std::size_t crc_at = 0;
  while (pos < header.size()) {
    if (header.size() - pos < 3) return "v2: truncated TLV";
    const std::uint8_t type = byte_at(header, pos);
    const std::size_t length = read_u16(header, pos + 1);
    pos += 3;
    if (length > header.size() - pos) return "v2: TLV overruns the header";
    if (type == kProxyTlvCrc32c) {
      if (length != 4 || crc_at != 0) return "v2: malformed CRC32C TLV";
      crc_at = pos;
    }
    out.tlvs.push_back(ProxyTlv{type, std::string(header.substr(pos, length))});
    pos += length;
  }
  if (crc_at != 0) {
    const std::uint32_t sent = static_cast<std::uint32_t>(read_u16(header, crc_at)) << 16 |
                               read_u16(header, crc_at + 2);
    std::uint32_t state = crc32c_update(0xFFFFFFFFu, header.substr(0, crc_at));
    state = crc32c_update(state, std::string_view("\0\0\0\0", 4));
    state = crc32c_update(state, header.substr(crc_at + 4));
    if ((state ^ 0xFFFFFFFFu) != sent) return "v2: CRC32C mismatch";
    out.checksum_verified = true;
  }
  return nullptr;
}

ProxyParseResult parse_v2(std::string_view in, std::size_t max_length) {
  if (in.size() <= 12) return need_more();
  const std::uint8_t ver_cmd = byte_at(in, 12);
  if ((ver_cmd >> 4) != 2) return fail("v2: unsupported version");
  const unsigned command = ver_cmd & 0x0F;  // 0 LOCAL, 1 PROXY; others must be dropped
  if (command > 1) return fail("v2: unknown command");

  if (in.size() == 13) return need_more();
  const unsigned family = byte_at(in, 13) >> 4;
  const unsigned transport = byte_at(in, 13) & 0x0F;
  if (family > 3 || transport > 2) return fail("v2: invalid family or transport");
  // LOCAL ignores the family; so does UNSPEC in either nibble, which a receiver
  // may treat as "use the real endpoints" (PP 2.2). Of the rest only TCP over
  // IPv4/IPv6 means anything to an SMTP server.
  const bool proxied = command == 1 && family != 0 && transport != 0;
  if (proxied && (family == 3 || transport == 2))
    return fail("v2: only TCP over IPv4 or IPv6 is supported");

  if (in.size() < kProxyV2FixedLength) return need_more();
  const std::size_t length = read_u16(in, 14);
  if (length > max_length) return fail("v2: header longer than the configured limit");
  const std::size_t block = address_block_size(family);
  if (proxied && length < block) return fail("v2: address block too short for the family");
  const std::size_t total = kProxyV2FixedLength + length;
  if (in.size() < total) return need_more();

  const std::string_view header = in.substr(0, total);
  ProxyParseResult r;
  ProxyHeader& h = r.header;
  h.version = 2;
  h.local = !proxied;
  if (proxied) {
    const int af = family == 2 ? AF_INET6 : AF_INET;
    const std::size_t addr = family == 2 ? 16 : 4;
    const std::size_t at = kProxyV2FixedLength;
    h.ipv6 = family == 2;
    h.src_addr = address_text(af, header.substr(at, addr));
    h.dst_addr = address_text(af, header.substr(at + addr, addr));
    h.src_port = read_u16(header, at + 2 * addr);
    h.dst_port = read_u16(header, at + 2 * addr + 2);
  }
  // TLVs follow the family's address block, also for LOCAL: HAProxy's health
  // checks send LOCAL/UNSPEC with a CRC32C TLV at offset 16. A LOCAL header
  // shorter than its family's block has no TLVs; its bytes are just skipped
  // (PP 2.2: always honour len, never assume 0 for LOCAL).
  if (length >= block) {
    if (const char* bad = read_tlvs(header, kProxyV2FixedLength + block, h)) return fail(bad);
  }
  r.status = ProxyParseStatus::done;
  r.consumed = total;
  return r;
}

}  // namespace

const ProxyTlv* ProxyHeader::find_tlv(std::uint8_t type) const {
  for (const ProxyTlv& t : tlvs)
    if (t.type == type) return &t;
  return nullptr;
}

std::uint32_t crc32c(std::string_view bytes) {
  return crc32c_update(0xFFFFFFFFu, bytes) ^ 0xFFFFFFFFu;
}

ProxyParseResult parse_proxy_header(std::string_view bytes, std::size_t max_v2_length) {
  // notes §4: the first byte already separates the versions ('P' vs CR); keep
  // comparing against whichever literal still matches.
  if (matches_so_far(bytes, kV2Signature))
    return bytes.size() < kV2Signature.size() ? need_more() : parse_v2(bytes, max_v2_length);
  if (matches_so_far(bytes, kV1Prefix))
    return bytes.size() < kV1Prefix.size() ? need_more() : parse_v1(bytes);
  return fail("no PROXY protocol header");
}

}  // namespace sluice::protocol
