// domain_list.hpp — a list of domains as config writes it: literal names
// ("example.org", compared without regard to case) and lookup items
// ("lmdb;/path", "partial-lmdb;/path", see list_lookup.hpp).
//
// Used for smtp.local_domains and smtp.relay_domains, and meant for route
// conditions. match() answers yes / no / defer; lookup() also gives the
// value a lookup file holds for the domain, for routes that take their
// target from it. Literals are tried first (no I/O, cannot defer), then the
// lookups in the order written. The domain is lower-cased before it is used
// as a key, so lookup files must hold lower-case keys.
// Copyable and cheap to copy: lookups are shared (one open file per path).
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/list_lookup.hpp"

namespace sluice::gateway {

class DomainList {
 public:
  DomainList() = default;
  DomainList(std::initializer_list<std::string> literal_domains);

  // A literal domain, stored lower-cased; the caller has checked its syntax.
  void add_domain(std::string_view domain);
  void add_lookup(ListLookup lookup);

  ListAnswer lookup(std::string_view domain) const;
  ListMatch match(std::string_view domain) const { return lookup(domain).match; }

  bool empty() const { return domains_.empty() && lookups_.empty(); }
  // Every entry as written (literals lower-cased), in order.
  const std::vector<std::string>& entries() const { return entries_; }
  const std::vector<ListLookup>& lookups() const { return lookups_; }

 private:
  std::vector<std::string> domains_;  // literals, lower-cased
  std::vector<ListLookup> lookups_;
  std::vector<std::string> entries_;
};

}  // namespace sluice::gateway
