#include "gateway/network_list.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sluice::gateway {

std::optional<IpBytes> parse_ip(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  // inet_pton stops at a NUL: "1.2.3.4\0junk" must not pass as 1.2.3.4.
  if (text.empty() || text.size() >= sizeof buf || text.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpBytes out{};
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

bool Network::contains(const IpBytes& ip) const {
  unsigned full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(ip.data(), base.data(), full) != 0) return false;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (ip[full] & mask) == (base[full] & mask);
}

bool NetworkList::add(std::string_view cidr) {
  std::string_view addr = cidr;
  std::optional<unsigned> len;
  if (auto slash = cidr.find('/'); slash != std::string_view::npos) {
    addr = cidr.substr(0, slash);
    unsigned v = 0;
    auto tail = cidr.substr(slash + 1);
    auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), v);
    if (ec != std::errc{} || p != tail.data() + tail.size() || tail.empty()) return false;
    len = v;
  }
  auto ip = parse_ip(addr);
  if (!ip) return false;
  const bool v4 = addr.find(':') == std::string_view::npos;
  unsigned prefix = 128;
  if (len) {
    if (v4 && *len > 32) return false;
    if (!v4 && *len > 128) return false;
    prefix = v4 ? 96 + *len : *len;
  }
  nets_.push_back(Network{*ip, prefix});
  text_.emplace_back(cidr);
  return true;
}

bool NetworkList::contains(const IpBytes& ip) const {
  for (const auto& n : nets_)
    if (n.contains(ip)) return true;
  return false;
}

bool NetworkList::contains(std::string_view ip_text) const {
  auto ip = parse_ip(ip_text);
  return ip && contains(*ip);
}

NetworkList NetworkList::any() {
  NetworkList l;
  l.add("0.0.0.0/0");
  l.add("::/0");
  return l;
}

NetworkList NetworkList::loopback() {
  NetworkList l;
  l.add("127.0.0.0/8");
  l.add("::1");
  return l;
}

}  // namespace sluice::gateway
