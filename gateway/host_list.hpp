// host_list.hpp — a host-based permission list: CIDR networks (a
// NetworkList) plus "lmdb;/path" lookup items keyed by the client's IP
// address in canonical text form ("192.0.2.7", "2001:db8::7"; an
// IPv4-mapped IPv6 client is looked up as its IPv4 text).
//
// Used for smtp.trusted_networks, smtp.xclient_hosts and
// smtp.pipeconnect_hosts. A wrapper rather than a change to NetworkList:
// NetworkList stays the plain, I/O-free CIDR matcher the listener's
// proxy_trusted check uses, and only these three lists learn to defer.
// A defer here grants nothing: callers treat it as "not in the list" and
// log it (a permission must never be given because a file was missing).
// Lookups are exact addresses; networks belong in the CIDR entries.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "gateway/list_lookup.hpp"
#include "gateway/network_list.hpp"

namespace sluice::gateway {

class HostList {
 public:
  HostList() = default;
  HostList(NetworkList networks);  // implicit: `= NetworkList::loopback()` reads naturally

  // A CIDR entry; false (nothing added) when malformed.
  bool add(std::string_view cidr);
  void add_lookup(ListLookup lookup);

  ListAnswer match(std::string_view ip_text) const;
  // The short answer, for callers that have nothing to log: defer is false.
  bool contains(std::string_view ip_text) const { return match(ip_text).yes(); }

  bool empty() const { return networks_.empty() && lookups_.empty(); }
  const std::vector<std::string>& entries() const { return entries_; }
  const NetworkList& networks() const { return networks_; }

 private:
  NetworkList networks_;
  std::vector<ListLookup> lookups_;
  std::vector<std::string> entries_;
};

// "192.0.2.7" for 192.0.2.7 and ::ffff:192.0.2.7; "2001:db8::7" (RFC 5952)
// for IPv6; empty when `ip_text` is not an address.
std::string canonical_ip_text(std::string_view ip_text);

}  // namespace sluice::gateway
