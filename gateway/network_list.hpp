// network_list.hpp — a list of CIDR networks ("192.0.2.0/24", "2001:db8::/32",
// "127.0.0.1") and the question "is this address in it?".
//
// Used for every host-based permission: trusted (relay) networks, XCLIENT and
// PROXY senders, PIPECONNECT hosts. IPv4 is held as IPv4-mapped IPv6 so that a
// v4 client reaching a dual-stack socket matches v4 entries. No DNS names: a
// permission that depends on forgeable reverse DNS is not offered.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::gateway {

using IpBytes = std::array<std::uint8_t, 16>;

// Parses "1.2.3.4" or "2001:db8::1" (no brackets) into mapped form.
std::optional<IpBytes> parse_ip(std::string_view text);

struct Network {
  IpBytes base{};
  unsigned prefix = 128;  // in mapped (128-bit) terms
  bool contains(const IpBytes& ip) const;
};

class NetworkList {
 public:
  static NetworkList any();       // 0.0.0.0/0 and ::/0
  static NetworkList loopback();  // 127.0.0.0/8 and ::1
  // Adds "addr" or "addr/len"; returns false (and adds nothing) when malformed.
  bool add(std::string_view cidr);
  bool contains(const IpBytes& ip) const;
  bool contains(std::string_view ip_text) const;
  bool empty() const { return nets_.empty(); }
  const std::vector<std::string>& entries() const { return text_; }

 private:
  std::vector<Network> nets_;
  std::vector<std::string> text_;
};

}  // namespace sluice::gateway
