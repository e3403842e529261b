// routing.hpp — where each recipient of a queued message goes.
//
// Routes are tried in config order; the first whose domain condition
// matches the recipient's domain takes it. A recipient no route takes is
// relayed (it waits in the queue for the delivery agent). A condition that
// cannot be evaluated (a lookup file missing) defers the recipient: never a
// guess. storage/ does not parse config: the gateway builds the table and
// supplies the domain matcher (literal lists, LMDB lookups).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::storage {

enum class RouteAction { relay, queuefile, discard };
enum class DomainMatch { no, yes, defer };

struct Route {
  std::string name;
  RouteAction action = RouteAction::relay;
  // Empty: every domain. Otherwise the gateway's matcher (lower-case domain in).
  std::function<DomainMatch(std::string_view domain)> domains;
  std::string directory;                 // queuefile: where the -H/-D pairs go
  std::string exim_id_format = "4.97";   // queuefile: "4.97" (23 chars) or "4.96" (16)
};

struct RouteTable {
  std::vector<Route> routes;
};

struct RouteChoice {
  const Route* route = nullptr;  // nullptr with defer == false: relay by default
  bool defer = false;
};

RouteChoice choose_route(const RouteTable& table, std::string_view recipient_address);
std::string_view name_of(RouteAction a);

}  // namespace sluice::storage
