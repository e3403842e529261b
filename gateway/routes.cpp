#include "gateway/routes.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::gateway {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

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
      std::vector<std::string> domains;
      for (const auto& d : rc.domains) domains.push_back(lower(d));
      r.domains = [domains = std::move(domains)](std::string_view domain) {
        return std::find(domains.begin(), domains.end(), domain) != domains.end() ? storage::DomainMatch::yes
                                                                                   : storage::DomainMatch::no;
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
