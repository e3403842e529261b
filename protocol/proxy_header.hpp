// proxy_header.hpp — sans-I/O parser for the PROXY protocol header, v1 and v2.
//
// What for: on a listener that sits behind HAProxy, nginx or a cloud load
// balancer, the first bytes of every connection are a PROXY header naming the
// real client. The session feeds what it has read so far to
// parse_proxy_header() before it sends the 220 banner (PP 2: nothing may be
// processed before a complete, valid header) and gets a value back:
// need_more, done (header plus its size), or error (close the connection).
//
// Contract: stateless; pass the whole buffer received so far, not only the new
// bytes. need_more only while the bytes are a valid prefix of some header;
// done never looks at a byte past `consumed` (those belong to SMTP). Malformed
// input is a value, never an exception. Cost is linear in the bounded header.
//
// Limits: a v1 line is at most 107 bytes with its CRLF (PP 2.1); a v2 header
// at most 16 + max_v2_length bytes, and a larger length field is rejected as
// soon as it arrives, before waiting for the body. TLVs are bounded by that
// length (at most one per 3 bytes).
//
// Security: call this only on listeners configured to require the header and
// only for connections from trusted proxy addresses; never auto-detect it and
// never fall back to plain SMTP on error (PP 2 and 5, notes §1: that lets anyone
// spoof a client address). Keep the real socket peer next to the advertised one.
// Addresses and TLV values come from the proxy: TLV bytes are raw, pass them
// through sanitize_for_log() before logging. `error` is our own fixed text and
// never echoes input bytes.
//
// References: "PP x.y" is a section of HAProxy's doc/proxy-protocol.txt
// (revision 2020/03/05); "notes §n" is our summary, shared/specs/proxy-protocol.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::protocol {

inline constexpr std::size_t kProxyV1MaxLength = 107;   // PP 2.1, worst-case UNKNOWN
inline constexpr std::size_t kProxyV2FixedLength = 16;  // signature, ver_cmd, fam, len
inline constexpr std::size_t kProxyV2DefaultMaxLength = 4096;

// Registered TLV types (PP 2.2.1 - 2.2.7).
inline constexpr std::uint8_t kProxyTlvAlpn = 0x01;
inline constexpr std::uint8_t kProxyTlvAuthority = 0x02;
inline constexpr std::uint8_t kProxyTlvCrc32c = 0x03;
inline constexpr std::uint8_t kProxyTlvNoop = 0x04;
inline constexpr std::uint8_t kProxyTlvUniqueId = 0x05;
inline constexpr std::uint8_t kProxyTlvSsl = 0x20;
inline constexpr std::uint8_t kProxyTlvNetns = 0x30;

struct ProxyTlv {
  std::uint8_t type;
  std::string value;  // raw bytes as sent by the proxy (may contain NUL)
};

struct ProxyHeader {
  int version = 0;            // 1 or 2
  bool local = false;         // v2 LOCAL or UNSPEC, or v1 "UNKNOWN": use the real socket addresses
  std::string src_addr, dst_addr;   // textual IP ("192.0.2.1", "2001:db8::1"), no brackets
  std::uint16_t src_port = 0, dst_port = 0;
  bool ipv6 = false;
  std::vector<ProxyTlv> tlvs;  // v2 only, raw, in wire order (NOOP included)
  bool checksum_verified = false;  // v2 carried a CRC32C TLV and it matched

  // First TLV of that type, or nullptr.
  const ProxyTlv* find_tlv(std::uint8_t type) const;
};

enum class ProxyParseStatus { need_more, done, error };

struct ProxyParseResult {
  ProxyParseStatus status = ProxyParseStatus::need_more;
  std::size_t consumed = 0;   // bytes of the header (only when done)
  ProxyHeader header;         // meaningful only when done
  std::string error;          // short reason for the log when status == error
};

// Looks at the first bytes received on a connection. Returns need_more while the
// bytes seen so far are a valid prefix of a v1 or v2 header; error as soon as they
// cannot be one (including "no PROXY header at all"); done with `consumed` once a
// full header is parsed. Never reads past the header. Bounded: v1 max 107 bytes,
// v2 max 16 + max_v2_length bytes (reject larger length fields).
//
// "As soon as" is exact for the fixed parts (literals, v2 fields, v1 ports and
// IPv4 addresses); a partial v1 IPv6 address is only checked for its characters
// and length, so a bad one is reported at the latest when its delimiter arrives.
ProxyParseResult parse_proxy_header(std::string_view bytes,
                                    std::size_t max_v2_length = kProxyV2DefaultMaxLength);

// CRC-32C (Castagnoli, RFC 4960 appendix B) as the v2 CRC32C TLV uses it
// (PP 2.2.3). Exposed for tests and for a future header writer.
std::uint32_t crc32c(std::string_view bytes);

}  // namespace sluice::protocol
