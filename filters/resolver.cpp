#include "filters/resolver.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace sluice::filters {

namespace {

bool is_v4_mapped(const gateway::IpBytes& ip) {
  return std::all_of(ip.begin(), ip.begin() + 10, [](std::uint8_t b) { return b == 0; }) && ip[10] == 0xff &&
         ip[11] == 0xff;
}

}  // namespace

std::string_view to_string(DnsStatus status) {
  switch (status) {
    case DnsStatus::ok: return "ok";
    case DnsStatus::nxdomain: return "nxdomain";
    case DnsStatus::nodata: return "nodata";
    case DnsStatus::servfail: return "servfail";
    case DnsStatus::timeout: return "timeout";
    case DnsStatus::error: return "error";
  }
  return "error";
}

std::string_view to_string(DnsType type) {
  switch (type) {
    case DnsType::A: return "A";
    case DnsType::PTR: return "PTR";
    case DnsType::MX: return "MX";
    case DnsType::TXT: return "TXT";
    case DnsType::AAAA: return "AAAA";
  }
  return "?";
}

std::string reverse_name(const gateway::IpBytes& ip) {
  std::string out;
  if (is_v4_mapped(ip)) {
    for (int i = 15; i >= 12; --i) out += std::to_string(ip[i]) + ".";
    return out + "in-addr.arpa";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out += kHex[ip[i] & 0x0f];
    out += '.';
    out += kHex[ip[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

std::string ip_text(const gateway::IpBytes& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4_mapped(ip)) return inet_ntop(AF_INET, ip.data() + 12, buf, sizeof buf) ? buf : "";
  return inet_ntop(AF_INET6, ip.data(), buf, sizeof buf) ? buf : "";
}

}  // namespace sluice::filters
