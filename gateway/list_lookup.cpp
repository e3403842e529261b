#include "gateway/list_lookup.hpp"

#include "storage/lmdb_lookup_cache.hpp"

namespace sluice::gateway {

namespace {
constexpr std::string_view kExact = "lmdb;";
constexpr std::string_view kPartial = "partial-lmdb;";
}  // namespace

bool is_lookup_item(std::string_view entry) {
  return entry.starts_with(kExact) || entry.starts_with(kPartial);
}

std::optional<ListLookup> open_lookup_item(std::string_view entry, bool allow_partial,
                                           std::chrono::milliseconds recheck, std::string& error) {
  const bool partial = entry.starts_with(kPartial);
  if (partial && !allow_partial) {
    error = "partial- lookups are for domain lists only; write \"lmdb;/path\"";
    return std::nullopt;
  }
  const std::string path(entry.substr(partial ? kPartial.size() : kExact.size()));
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos) {
    error = "\"" + std::string(entry) + "\" needs an absolute file path after \"lmdb;\"";
    return std::nullopt;
  }
  auto lookup = storage::LmdbLookupCache::process_wide().get(path, recheck);
  if (auto problem = lookup->check_now()) {
    error = "lmdb file " + path + ": " + *problem;
    return std::nullopt;
  }
  return ListLookup{std::string(entry), std::move(lookup), partial};
}

std::vector<std::string> lookup_keys(std::string_view domain, bool partial) {
  std::vector<std::string> keys{std::string(domain)};
  if (!partial) return keys;
  // "a.b.example": "*.b.example", not "*.example" (a wildcard for a whole
  // top-level domain is never meant), as Exim's partial- default of two.
  for (auto dot = domain.find('.'); dot != std::string_view::npos; dot = domain.find('.', dot + 1)) {
    const std::string_view parent = domain.substr(dot + 1);
    if (parent.find('.') == std::string_view::npos) break;
    keys.push_back("*." + std::string(parent));
  }
  return keys;
}

ListAnswer ask_lookups(const std::vector<ListLookup>& lookups, std::string_view key, bool domain_key) {
  ListAnswer deferred;
  for (const auto& l : lookups) {
    for (const auto& k : lookup_keys(key, domain_key && l.partial)) {
      storage::LookupResult r = l.lookup->find(k);
      if (r.is_found()) return ListAnswer{ListMatch::yes, l.text, std::move(r.value), {}};
      if (r.is_defer()) {
        if (!deferred.defer()) deferred = ListAnswer{ListMatch::defer, l.text, {}, std::move(r.value)};
        break;  // the file cannot answer: no use asking it for the parents
      }
    }
  }
  return deferred;  // no, or the first defer
}

}  // namespace sluice::gateway
