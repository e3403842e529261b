#include "filters/dns_cache.hpp"

namespace sluice::filters {

namespace {

// "Example.ORG." and "example.org" are one name (RFC 4343); the type follows.
std::string cache_key(std::string_view name, DnsType type) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string key;
  key.reserve(name.size() + 6);
  for (char c : name) key += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  key += '/';
  key += std::to_string(static_cast<unsigned>(type));
  return key;
}

// Roughly what an answer holds on the heap; enough to bound the total.
std::size_t approximate_bytes(const std::string& key, const DnsAnswer& a) {
  std::size_t n = sizeof(DnsAnswer) + 64 + key.size() + a.error.size();
  n += a.addresses.size() * sizeof(gateway::IpBytes);
  for (const auto& t : a.texts) {
    n += sizeof(TxtRecord) + t.text.size();
    for (const auto& s : t.strings) n += sizeof(std::string) + s.size();
  }
  for (const auto& m : a.mx) n += sizeof(MxRecord) + m.exchange.size();
  for (const auto& s : a.names) n += sizeof(std::string) + s.size();
  return n;
}

}  // namespace

DnsCache::DnsCache(std::size_t max_entries, std::size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

std::optional<DnsAnswer> DnsCache::find(std::string_view name, DnsType type, Clock::time_point now) {
  const std::string key = cache_key(name, type);
  auto it = index_.find(key);
  if (it == index_.end() || it->second->expires <= now) {
    if (it != index_.end()) erase(it->second);
    stats_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  stats_.hits.fetch_add(1, std::memory_order_relaxed);
  DnsAnswer a = it->second->answer;
  const auto left = std::chrono::ceil<std::chrono::seconds>(it->second->expires - now);
  a.ttl = static_cast<std::uint32_t>(left.count());
  a.from_cache = true;
  return a;
}

void DnsCache::store(std::string_view name, DnsType type, const DnsAnswer& answer, Clock::time_point now) {
  const bool cacheable = answer.status == DnsStatus::ok || answer.status == DnsStatus::nxdomain ||
                         answer.status == DnsStatus::nodata;
  if (!cacheable || answer.ttl == 0 || max_entries_ == 0 || answer.from_cache) return;
  std::string key = cache_key(name, type);
  if (auto it = index_.find(key); it != index_.end()) erase(it->second);
  const std::size_t size = approximate_bytes(key, answer);
  if (size > max_bytes_) return;
  lru_.push_front(Entry{std::move(key), answer, now + std::chrono::seconds(answer.ttl), size});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += size;
  while (index_.size() > max_entries_ || bytes_ > max_bytes_) {
    erase(std::prev(lru_.end()));
    stats_.evictions.fetch_add(1, std::memory_order_relaxed);
  }
}

void DnsCache::erase(Lru::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

}  // namespace sluice::filters
