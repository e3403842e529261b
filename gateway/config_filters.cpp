#include "gateway/config_filters.hpp"

namespace sluice::gateway {

namespace {

bool is_authserv_id(std::string_view s) {
  // RFC 8601 2.2: a value (token or quoted-string); we accept the token form
  // a host name has, so it can be compared and written without quoting.
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == '_'))
      return false;
  return true;
}

bool is_address(std::string_view s) {
  const auto at = s.rfind('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= s.size() || s.size() > 254) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '<' || c == '>')
      return false;
  return true;
}

bool is_name(std::string_view s) { return !s.empty() && s.size() <= 64; }

void read_filter(TableReader& r, FilterSettings& f) {
  r.boolean("enabled", f.enabled);
  r.duration("timeout", f.timeout, std::chrono::seconds(600));
  r.choice("on_failure", {{"continue", FilterFailure::carry_on}, {"defer", FilterFailure::defer}}, f.on_failure);
  r.finish();
}

}  // namespace

void read_filters(TableReader& r, std::chrono::milliseconds recheck, FiltersConfig& f) {
  r.boolean("enabled", f.enabled);
  r.string("authserv_id", is_authserv_id, "a host-name-like token (letters, digits, . - _)", f.authserv_id);
  r.boolean("received_spf", f.received_spf);
  r.boolean("skip_trusted", f.skip_trusted);
  r.boolean("skip_authenticated", f.skip_authenticated);
  r.boolean("skip_xclient", f.skip_xclient);
  r.host_list("skip_hosts", recheck, f.skip_hosts);
  r.strings("skip_listeners", is_name, "a listener name", f.skip_listeners);
  r.string("dmarc_history_file", f.dmarc_history_file);
  r.string("dmarc_forensic_sender", is_address, "an address local@domain", f.dmarc_forensic_sender);
  if (auto t = r.table("spf")) read_filter(*t, f.spf);
  if (auto t = r.table("dkim")) read_filter(*t, f.dkim);
  if (auto t = r.table("dmarc")) read_filter(*t, f.dmarc);
  r.finish();
}

}  // namespace sluice::gateway
