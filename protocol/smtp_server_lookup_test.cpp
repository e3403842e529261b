// SmtpServer with lookup files in its lists: a domain list that cannot
// answer gives 451 4.3.0 at RCPT (never 5xx, not a bad command); a host
// list that cannot answer grants nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "protocol/smtp_server_test_support.hpp"
#include "storage/lmdb_test_support.hpp"

namespace sluice::protocol::testing {
namespace {

using storage::testing::build_lmdb;
using storage::testing::ScratchDir;

gateway::ListLookup open_item(const std::string& path) {
  std::string error;
  auto l = gateway::open_lookup_item("lmdb;" + path, true, std::chrono::milliseconds(0), error);
  EXPECT_TRUE(l.has_value()) << error;
  return l ? *l : gateway::ListLookup{};
}

class SmtpServerLookupTest : public SmtpServerTest {
 protected:
  ScratchDir dir_;
};

TEST_F(SmtpServerLookupTest, RelayDomainsFromAFileAndDeferWhenItIsGone) {
  const auto path = dir_.file("relay.mdb");
  ASSERT_TRUE(build_lmdb(path, {{"partner.example", ""}}));
  cfg_.smtp.relay_domains.add_lookup(open_item(path));
  cfg_.limits.max_bad_commands = 1;
  connect();
  open_transaction();
  expect("RCPT TO:<a@Partner.Example>", 250, "2.1.5");
  expect("RCPT TO:<a@stranger.example>", 550, "5.7.1");

  std::filesystem::remove(path);
  expect("RCPT TO:<a@partner.example>", 451, "4.3.0");
  expect("RCPT TO:<b@partner.example>", 451, "4.3.0");  // not counted: no 421 after max_bad_commands
  expect("RCPT TO:<c@example.net>", 250, "2.1.5");      // a literal local domain needs no file
  expect("RCPT TO:<postmaster>", 250, "2.1.5");

  // A trusted client relays anywhere: no lookup, so no defer.
  cfg_.smtp.trusted_networks = gateway::NetworkList::loopback();
  connect(kLoopback);
  open_transaction();
  expect("RCPT TO:<a@partner.example>", 250, "2.1.5");
}

TEST_F(SmtpServerLookupTest, HostListDeferGrantsNothing) {
  const auto path = dir_.file("hosts.mdb");
  ASSERT_TRUE(build_lmdb(path, {{std::string(kOutsider), ""}}));
  cfg_.smtp.trusted_networks = gateway::HostList{};
  cfg_.smtp.trusted_networks.add_lookup(open_item(path));
  cfg_.smtp.xclient_hosts.add_lookup(open_item(path));
  connect(kOutsider);
  EXPECT_TRUE(session_.relay_trusted);
  EXPECT_TRUE(session_.xclient_allowed);

  std::filesystem::remove(path);
  connect(kOutsider);
  EXPECT_FALSE(session_.relay_trusted);
  EXPECT_FALSE(session_.xclient_allowed);
  open_transaction();
  expect("RCPT TO:<x@elsewhere.example>", 550, "5.7.1");
  connect(kFrontEnd);  // its CIDR entry still works
  EXPECT_TRUE(session_.xclient_allowed);
}

}  // namespace
}  // namespace sluice::protocol::testing
