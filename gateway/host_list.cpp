#include "gateway/host_list.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace sluice::gateway {

std::string canonical_ip_text(std::string_view ip_text) {
  const auto ip = parse_ip(ip_text);
  if (!ip) return {};
  static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char buf[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(ip->data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
    if (!inet_ntop(AF_INET, ip->data() + 12, buf, sizeof buf)) return {};
  } else if (!inet_ntop(AF_INET6, ip->data(), buf, sizeof buf)) {
    return {};
  }
  return buf;
}

HostList::HostList(NetworkList networks) : networks_(std::move(networks)), entries_(networks_.entries()) {}

bool HostList::add(std::string_view cidr) {
  if (!networks_.add(cidr)) return false;
  entries_.emplace_back(cidr);
  return true;
}

void HostList::add_lookup(ListLookup lookup) {
  entries_.push_back(lookup.text);
  lookups_.push_back(std::move(lookup));
}

ListAnswer HostList::match(std::string_view ip_text) const {
  const auto ip = parse_ip(ip_text);
  if (!ip) return ListAnswer{};
  if (networks_.contains(*ip)) return ListAnswer{ListMatch::yes, "network", {}, {}};
  if (lookups_.empty()) return ListAnswer{};
  return ask_lookups(lookups_, canonical_ip_text(ip_text), false);
}

}  // namespace sluice::gateway
