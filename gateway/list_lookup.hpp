// list_lookup.hpp — what domain lists and host lists share: the tri-state
// answer of a list (yes / no / defer) and the lookup items a list may hold
// besides its literal entries, written as in Exim:
//
//   "lmdb;/etc/sluice/relay_domains.mdb"          the key itself
//   "partial-lmdb;/etc/sluice/relay_domains.mdb"  the key, then "*.parent"
//                                                 (domain lists only)
//
// The path must be absolute. A list answers yes when any item says yes; a
// lookup that cannot answer (file missing or corrupt) makes the list answer
// defer unless another item said yes: a defer is never a no.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/lookup.hpp"

namespace sluice::gateway {

enum class ListMatch { yes, no, defer };

struct ListAnswer {
  ListMatch match = ListMatch::no;
  std::string item;   // yes/defer: the entry that decided ("example.org", "lmdb;/path")
  std::string value;  // yes from a lookup: the stored value (routes may use it)
  std::string error;  // defer: why the lookup could not answer
  bool yes() const { return match == ListMatch::yes; }
  bool defer() const { return match == ListMatch::defer; }
  bool no() const { return match == ListMatch::no; }
};

// One lookup item of a list.
struct ListLookup {
  std::string text;                         // as written: "lmdb;/path"
  std::shared_ptr<storage::Lookup> lookup;
  bool partial = false;                     // also try "*.parent" keys
};

// Does this list entry name a lookup ("lmdb;..." or "partial-lmdb;...")?
bool is_lookup_item(std::string_view entry);

// Parses a lookup item and opens its file through the process-wide cache
// (storage/lmdb_lookup_cache.hpp), checking now that it is usable. nullopt
// and `error` ("lmdb file /x.mdb: cannot open: No such file or directory")
// when it is malformed or its file cannot be read.
std::optional<ListLookup> open_lookup_item(std::string_view entry, bool allow_partial,
                                           std::chrono::milliseconds recheck, std::string& error);

// The keys a domain lookup tries, in order: the domain, then for "partial-"
// "*.b.example" and so on for each parent of at least two labels.
std::vector<std::string> lookup_keys(std::string_view domain, bool partial);

// Asks each lookup in order; yes at the first found, else defer if any
// deferred (the first defer's item and error), else no.
ListAnswer ask_lookups(const std::vector<ListLookup>& lookups, std::string_view key, bool domain_key);

}  // namespace sluice::gateway
