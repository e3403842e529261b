// public_suffix.hpp — organizational domains (RFC 7489 3.2) from the Public
// Suffix List, through libpsl. Loaded once (start-up or reload, never on an
// event loop) and then read-only: safe to share between workers.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct psl_ctx_st;

namespace sluice::filters {

class PublicSuffixList {
 public:
  // Debian's list (package publicsuffix).
  static constexpr std::string_view kDefaultPath = "/usr/share/publicsuffix/public_suffix_list.dat";

  // nullptr with `error` when the file cannot be read or parsed.
  static std::shared_ptr<const PublicSuffixList> load(const std::string& path, std::string& error);
  ~PublicSuffixList();
  PublicSuffixList(const PublicSuffixList&) = delete;
  PublicSuffixList& operator=(const PublicSuffixList&) = delete;

  // The organizational domain of `domain` (lower case, no trailing dot):
  // the public suffix plus one label. For a name that is itself a public
  // suffix (or under none the list knows beyond "*"), the name itself, as
  // RFC 7489 3.2 step 3 would have it when there is no label to add.
  std::string organizational_domain(std::string_view domain) const;
  // The registrable domain (public suffix plus one label), or nullopt for a
  // public suffix, an empty name or one with a leading dot. Any case.
  std::optional<std::string> registrable_domain(std::string_view domain) const;

 private:
  explicit PublicSuffixList(psl_ctx_st* ctx) : ctx_(ctx) {}
  psl_ctx_st* ctx_;
};

}  // namespace sluice::filters
