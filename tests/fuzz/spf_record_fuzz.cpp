// spf_record_fuzz.cpp — libFuzzer target for the SPF record parser and the
// macro expander (filters/spf_record, filters/spf_macro).
//
// Properties, not only crashes: a record that parses has only well-formed
// parts (each domain-spec passes the macro grammar and expands, to printable
// ASCII, since every value fed in is such; "%_" may add spaces); a CIDR length is
// in range; the grammar check and the expander agree on every input; a
// shortened name fits in 253 octets or has no dot left to cut at. Any
// violation aborts so the fuzzer keeps the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "filters/spf_macro.hpp"
#include "filters/spf_record.hpp"

namespace {

using namespace sluice::filters;

void check(bool ok) {
  if (!ok) std::abort();
}

SpfMacroValues values() {
  SpfMacroValues v;
  v.sender = "strong-bad@email.example.com";
  v.local_part = "strong-bad";
  v.sender_domain = "email.example.com";
  v.domain = "email.example.com";
  v.ip = *sluice::gateway::parse_ip("2001:db8::cb01");
  v.validated_name = "mx.example.com";
  v.helo = "mx.example.org";
  v.receiver = "gw.example.net";
  v.now = 1700000000;
  return v;
}

void check_expansion(std::string_view spec, const SpfMacroValues& v) {
  check(is_valid_macro_string(spec, MacroUse::domain_spec));
  const auto expanded = expand_macros(spec, v, MacroUse::domain_spec);
  check(expanded.has_value());
  for (unsigned char c : *expanded) check(c >= 0x20 && c < 0x7f);  // "%_" is a space
  const std::string shortened = shorten_domain(*expanded);
  check(shortened.size() <= 253 || shortened.find('.') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const SpfMacroValues v = values();

  for (MacroUse use : {MacroUse::domain_spec, MacroUse::explanation})
    check(is_valid_macro_string(in, use) == expand_macros(in, v, use).has_value());

  const auto parsed = parse_spf_record(in);
  if (const auto* record = std::get_if<SpfRecord>(&parsed)) {
    check(is_spf_record(in));
    for (const auto& m : record->mechanisms) {
      check(!m.text.empty() && in.find(m.text) != std::string_view::npos);
      check(m.cidr4 <= 32 && m.cidr6 <= 128);
      if (!m.domain_spec.empty()) check_expansion(m.domain_spec, v);
    }
    if (record->redirect) check_expansion(*record->redirect, v);
    if (record->exp) check_expansion(*record->exp, v);
  }
  return 0;
}
