#include "filters/authentication_results.hpp"

#include <vector>

#include "filters/authentication_results_value.hpp"
#include "filters/spf_header.hpp"

namespace sluice::filters {

std::string authentication_results_header(std::string_view authserv_id, const FilterResults& results) {
  std::vector<std::string> methods;
  if (results.spf) methods.push_back(authentication_results_spf(*results.spf));
  if (results.dkim_ran) {
    if (results.dkim.empty()) methods.emplace_back("dkim=none");
    for (const auto& d : results.dkim) methods.push_back(authentication_results_fragment(d));
  }
  if (results.dmarc) {
    std::string f = authentication_results_dmarc(*results.dmarc);
    if (!f.empty()) methods.push_back(std::move(f));
  }
  std::string h = "Authentication-Results: ";
  h += authentication_results_value(authserv_id);  // a token from config; quoted if ever not
  if (methods.empty()) return h + "; none\r\n";
  for (std::size_t i = 0; i < methods.size(); ++i) {
    h += ";\r\n\t";
    h += methods[i];
  }
  return h + "\r\n";
}

std::string received_spf_field(const FilterResults& results) {
  if (!results.spf || !results.spf_request) return {};
  return received_spf_header(*results.spf, *results.spf_request) + "\r\n";
}

}  // namespace sluice::filters
