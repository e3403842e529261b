#include "filters/public_suffix.hpp"

#include <libpsl.h>

namespace sluice::filters {

std::shared_ptr<const PublicSuffixList> PublicSuffixList::load(const std::string& path, std::string& error) {
  psl_ctx_t* ctx = psl_load_file(path.c_str());
  if (!ctx) {
    error = "cannot load the public suffix list " + path;
    return nullptr;
  }
  if (psl_suffix_count(ctx) <= 0) {
    psl_free(ctx);
    error = "the public suffix list " + path + " has no rules";
    return nullptr;
  }
  return std::shared_ptr<const PublicSuffixList>(new PublicSuffixList(ctx));
}

PublicSuffixList::~PublicSuffixList() { psl_free(ctx_); }

std::optional<std::string> PublicSuffixList::registrable_domain(std::string_view domain) const {
  std::string d(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.front() == '.') return std::nullopt;
  // libpsl wants lower case UTF-8; psl_str_to_utf8lower also handles non-ASCII letters.
  char* lower = nullptr;
  if (psl_str_to_utf8lower(d.c_str(), "utf-8", nullptr, &lower) != PSL_SUCCESS || !lower) return std::nullopt;
  const char* reg = psl_registrable_domain(ctx_, lower);
  std::optional<std::string> out;
  if (reg) out = std::string(reg);
  psl_free_string(lower);
  return out;
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  if (auto reg = registrable_domain(domain)) return *reg;
  // A public suffix itself (or nothing libpsl accepts): the name, lower-cased.
  std::string d(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();
  for (char& c : d)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return d;
}

}  // namespace sluice::filters
