// dmarc_record_fuzz.cpp — libFuzzer target for the DMARC record grammar
// (filters/dmarc_record.hpp). Traps when a parsed record breaks its own
// rules: a policy word for p (and sp when set), pct at most 100, alignment
// modes r or s, only mailto: report URIs, and a record only for text that
// looks like one.
#include <cstdint>
#include <string>
#include <string_view>

#include "filters/dmarc_record.hpp"

namespace sf = sluice::filters;

namespace {
void check(bool ok) {
  if (!ok) __builtin_trap();
}
bool policy(const std::string& p) { return p == "none" || p == "quarantine" || p == "reject"; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view txt(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto r = sf::parse_dmarc_record(txt, error);
  if (!r) {
    check(!error.empty());
    return 0;
  }
  check(sf::looks_like_dmarc_record(txt));
  check(policy(r->p) && (r->sp.empty() || policy(r->sp)));
  check(r->pct <= 100);
  check((r->adkim == 'r' || r->adkim == 's') && (r->aspf == 'r' || r->aspf == 's'));
  for (const auto* list : {&r->rua, &r->ruf})
    for (const auto& u : *list) check(u.size() > 7 && (u[0] == 'm' || u[0] == 'M'));
  check(!r->invalid_policy_fallback || (!r->rua.empty() && r->p == "none" && r->sp.empty()));
  return 0;
}
