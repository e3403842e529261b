#include "gateway/domain_list.hpp"

namespace sluice::gateway {

namespace {
std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
}  // namespace

DomainList::DomainList(std::initializer_list<std::string> literal_domains) {
  for (const auto& d : literal_domains) add_domain(d);
}

void DomainList::add_domain(std::string_view domain) {
  domains_.push_back(lower(domain));
  entries_.push_back(domains_.back());
}

void DomainList::add_lookup(ListLookup lookup) {
  entries_.push_back(lookup.text);
  lookups_.push_back(std::move(lookup));
}

ListAnswer DomainList::lookup(std::string_view domain) const {
  const std::string key = lower(domain);
  for (const auto& d : domains_)
    if (d == key) return ListAnswer{ListMatch::yes, d, {}, {}};
  if (key.empty() || lookups_.empty()) return ListAnswer{};
  return ask_lookups(lookups_, key, true);
}

}  // namespace sluice::gateway
