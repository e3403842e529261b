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

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  std::string d(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();
  for (char& c : d)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (d.empty()) return d;
  const char* reg = psl_registrable_domain(ctx_, d.c_str());
  if (!reg) return d;  // a public suffix itself, or not a name libpsl accepts
  return reg;
}

}  // namespace sluice::filters
