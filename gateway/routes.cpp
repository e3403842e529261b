#include "gateway/routes.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::gateway {

namespace {

storage::RouteAction action_of(RouteActionConfig a) {
  switch (a) {
    case RouteActionConfig::relay: return storage::RouteAction::relay;
    case RouteActionConfig::queuefile: return storage::RouteAction::queuefile;
    case RouteActionConfig::discard: return storage::RouteAction::discard;
  }
  return storage::RouteAction::relay;
}

}  // namespace

std::shared_ptr<const storage::RouteTable> build_route_table(const Config& cfg) {
  auto table = std::make_shared<storage::RouteTable>();
  for (const RouteConfig& rc : cfg.routes) {
    storage::Route r;
    r.name = rc.name;
    r.action = action_of(rc.action);
    r.directory = rc.directory;
    r.exim_id_format = rc.exim_id_format;
    if (!rc.domains.empty()) {
      // The list is copied (cheap: lookups are shared), so the table does
      // not depend on the Config staying alive.
      r.domains = [domains = rc.domains](std::string_view domain) {
        switch (domains.match(domain)) {
          case ListMatch::yes: return storage::DomainMatch::yes;
          case ListMatch::defer: return storage::DomainMatch::defer;
          default: return storage::DomainMatch::no;
        }
      };
    }
    table->routes.push_back(std::move(r));
  }
  return table;
}

storage::RetryPolicy retry_policy(const Config& cfg) {
  storage::RetryPolicy p;
  p.first = cfg.queue.retry_first;
  p.max = cfg.queue.retry_max;
  p.give_up = cfg.queue.give_up_after;
  p.keep_done = cfg.queue.keep_done;
  return p;
}

}  // namespace sluice::gateway
