#include "storage/routing.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::storage {

std::string_view name_of(RouteAction a) {
  switch (a) {
    case RouteAction::relay: return "relay";
    case RouteAction::queuefile: return "queuefile";
    case RouteAction::discard: return "discard";
  }
  return "relay";
}

RouteChoice choose_route(const RouteTable& table, std::string_view address) {
  const auto at = address.rfind('@');
  std::string domain(at == std::string_view::npos ? std::string_view{} : address.substr(at + 1));
  std::transform(domain.begin(), domain.end(), domain.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const Route& r : table.routes) {
    if (!r.domains) return {&r, false};
    switch (r.domains(domain)) {
      case DomainMatch::yes: return {&r, false};
      case DomainMatch::defer: return {&r, true};
      case DomainMatch::no: break;
    }
  }
  return {};
}

}  // namespace sluice::storage
