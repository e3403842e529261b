// choose_route: the first route whose domains match takes the recipient; no
// match relays; a condition that cannot be evaluated defers.
#include "storage/routing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::storage {
namespace {

Route route(std::string name, RouteAction action, std::vector<std::string> domains) {
  Route r;
  r.name = std::move(name);
  r.action = action;
  if (!domains.empty())
    r.domains = [domains = std::move(domains)](std::string_view d) {
      for (const auto& x : domains)
        if (x == d) return DomainMatch::yes;
      return DomainMatch::no;
    };
  return r;
}

TEST(Routing, NoRoutesRelays) {
  RouteTable t;
  RouteChoice c = choose_route(t, "bob@example.net");
  EXPECT_EQ(c.route, nullptr);
  EXPECT_FALSE(c.defer);
}

TEST(Routing, FirstMatchWins) {
  RouteTable t;
  t.routes.push_back(route("drop", RouteAction::discard, {"spam.test"}));
  t.routes.push_back(route("exim", RouteAction::queuefile, {"example.net", "spam.test"}));
  t.routes.push_back(route("rest", RouteAction::relay, {}));
  EXPECT_EQ(choose_route(t, "a@spam.test").route->name, "drop");
  EXPECT_EQ(choose_route(t, "a@example.net").route->name, "exim");
  EXPECT_EQ(choose_route(t, "a@other.test").route->name, "rest") << "a route with no domains takes every domain";
}

TEST(Routing, UnmatchedRecipientRelays) {
  RouteTable t;
  t.routes.push_back(route("exim", RouteAction::queuefile, {"example.net"}));
  RouteChoice c = choose_route(t, "a@example.org");
  EXPECT_EQ(c.route, nullptr);
  EXPECT_FALSE(c.defer);
}

TEST(Routing, DomainIsLowerCasedAndTakenAfterTheLastAt) {
  RouteTable t;
  std::vector<std::string> seen;
  Route r;
  r.name = "spy";
  r.domains = [&](std::string_view d) {
    seen.emplace_back(d);
    return DomainMatch::no;
  };
  t.routes.push_back(r);
  choose_route(t, "\"a@b\"@Example.NET");
  choose_route(t, "postmaster");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "example.net");
  EXPECT_EQ(seen[1], "") << "no domain: the matcher sees an empty one";
}

TEST(Routing, AConditionThatCannotBeEvaluatedDefers) {
  RouteTable t;
  Route broken;
  broken.name = "lookup";
  broken.action = RouteAction::queuefile;
  broken.domains = [](std::string_view) { return DomainMatch::defer; };
  t.routes.push_back(broken);
  t.routes.push_back(route("rest", RouteAction::discard, {}));
  RouteChoice c = choose_route(t, "a@example.net");
  EXPECT_TRUE(c.defer) << "never fall through to a later route on a failed lookup";
  ASSERT_NE(c.route, nullptr);
  EXPECT_EQ(c.route->name, "lookup");
}

TEST(Routing, ActionNames) {
  EXPECT_EQ(name_of(RouteAction::relay), "relay");
  EXPECT_EQ(name_of(RouteAction::queuefile), "queuefile");
  EXPECT_EQ(name_of(RouteAction::discard), "discard");
}

}  // namespace
}  // namespace sluice::storage
