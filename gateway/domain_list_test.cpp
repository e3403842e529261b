// DomainList and HostList with literal entries and lmdb; lookup items, and
// how the config loader reads them (files built by the real mdb_load).
#include "gateway/domain_list.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "gateway/config_loader.hpp"
#include "gateway/host_list.hpp"
#include "storage/lmdb_test_support.hpp"

namespace sluice::gateway {
namespace {

using storage::testing::build_lmdb;
using storage::testing::replace_lmdb;
using storage::testing::ScratchDir;

constexpr std::chrono::milliseconds kEveryLookup{0};

ListLookup open_item(const std::string& text) {
  std::string error;
  auto l = open_lookup_item(text, true, kEveryLookup, error);
  EXPECT_TRUE(l.has_value()) << error;
  return l ? *l : ListLookup{};
}

TEST(DomainList, LiteralsMatchWithoutRegardToCase) {
  DomainList l{"Example.ORG", "mail.example.org"};
  EXPECT_EQ(l.entries(), (std::vector<std::string>{"example.org", "mail.example.org"}));
  EXPECT_EQ(l.match("EXAMPLE.org"), ListMatch::yes);
  EXPECT_EQ(l.match("sub.example.org"), ListMatch::no);
  EXPECT_EQ(l.match(""), ListMatch::no);
  EXPECT_TRUE(DomainList{}.empty());
}

TEST(DomainList, LookupItemsAnswerWithTheStoredValue) {
  ScratchDir dir;
  const auto path = dir.file("relay.mdb");
  ASSERT_TRUE(build_lmdb(path, {{"partner.example", "smtp:[192.0.2.25]"}, {"other.example", ""}}));
  DomainList l{"literal.example"};
  l.add_lookup(open_item("lmdb;" + path));
  EXPECT_EQ(l.entries(), (std::vector<std::string>{"literal.example", "lmdb;" + path}));

  const ListAnswer a = l.lookup("Partner.Example");  // lower-cased before the lookup
  EXPECT_EQ(a.match, ListMatch::yes);
  EXPECT_EQ(a.value, "smtp:[192.0.2.25]");
  EXPECT_EQ(a.item, "lmdb;" + path);
  EXPECT_EQ(l.match("other.example"), ListMatch::yes) << "an empty value is still found";
  EXPECT_EQ(l.match("sub.partner.example"), ListMatch::no) << "exact keys only without partial-";
  EXPECT_EQ(l.lookup("literal.example").item, "literal.example");
  EXPECT_EQ(l.match("stranger.example"), ListMatch::no);
}

TEST(DomainList, PartialLookupsTryWildcardParents) {
  EXPECT_EQ(lookup_keys("a.b.example.org", true),
            (std::vector<std::string>{"a.b.example.org", "*.b.example.org", "*.example.org"}));
  EXPECT_EQ(lookup_keys("example.org", true), (std::vector<std::string>{"example.org"}));
  EXPECT_EQ(lookup_keys("a.b.example.org", false), (std::vector<std::string>{"a.b.example.org"}));

  ScratchDir dir;
  const auto path = dir.file("wild.mdb");
  ASSERT_TRUE(build_lmdb(path, {{"*.example.org", "wild"}, {"exact.example.org", "exact"}, {"*.org", "tld"}}));
  DomainList l;
  l.add_lookup(open_item("partial-lmdb;" + path));
  EXPECT_EQ(l.lookup("exact.example.org").value, "exact");
  EXPECT_EQ(l.lookup("deep.sub.example.org").value, "wild");
  EXPECT_EQ(l.match("example.org"), ListMatch::no) << "*.example.org covers subdomains only";
  EXPECT_EQ(l.match("other.org"), ListMatch::no) << "no wildcard for a whole top-level domain";
}

TEST(DomainList, AMissingFileDefersButNeverHidesAYes) {
  ScratchDir dir;
  const auto gone = dir.file("gone.mdb");
  const auto here = dir.file("here.mdb");
  ASSERT_TRUE(build_lmdb(gone, {{"a.example", "1"}}));
  ASSERT_TRUE(build_lmdb(here, {{"b.example", "2"}}));
  DomainList l{"literal.example"};
  l.add_lookup(open_item("lmdb;" + gone));
  l.add_lookup(open_item("lmdb;" + here));
  std::filesystem::remove(gone);

  const ListAnswer a = l.lookup("a.example");
  EXPECT_EQ(a.match, ListMatch::defer);
  EXPECT_EQ(a.item, "lmdb;" + gone);
  EXPECT_NE(a.error.find("No such file"), std::string::npos) << a.error;
  EXPECT_EQ(l.match("b.example"), ListMatch::yes) << "a later file's yes stands";
  EXPECT_EQ(l.match("literal.example"), ListMatch::yes) << "literals need no file";

  ASSERT_TRUE(replace_lmdb(gone, {{"a.example", "back"}}));
  EXPECT_EQ(l.lookup("a.example").value, "back");
}

TEST(ListLookup, BadItemsAreRefusedWithAReason) {
  ScratchDir dir;
  std::string error;
  EXPECT_FALSE(open_lookup_item("lmdb;relative.mdb", true, kEveryLookup, error));
  EXPECT_NE(error.find("absolute"), std::string::npos) << error;
  EXPECT_FALSE(open_lookup_item("lmdb;", true, kEveryLookup, error));
  EXPECT_FALSE(open_lookup_item("lmdb;" + dir.file("missing.mdb"), true, kEveryLookup, error));
  EXPECT_EQ(error, "lmdb file " + dir.file("missing.mdb") + ": cannot open: No such file or directory");
  const auto path = dir.file("hosts.mdb");
  ASSERT_TRUE(build_lmdb(path, {{"192.0.2.7", ""}}));
  EXPECT_FALSE(open_lookup_item("partial-lmdb;" + path, false, kEveryLookup, error));
  EXPECT_NE(error.find("domain lists only"), std::string::npos) << error;
  EXPECT_TRUE(is_lookup_item("lmdb;/x"));
  EXPECT_TRUE(is_lookup_item("partial-lmdb;/x"));
  EXPECT_FALSE(is_lookup_item("example.org"));
}

TEST(HostList, CidrsAndLookupsKeyedByCanonicalAddress) {
  EXPECT_EQ(canonical_ip_text("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(canonical_ip_text("2001:DB8:0:0::7"), "2001:db8::7");
  EXPECT_EQ(canonical_ip_text("not an ip"), "");

  ScratchDir dir;
  const auto path = dir.file("hosts.mdb");
  ASSERT_TRUE(build_lmdb(path, {{"192.0.2.7", "front end"}, {"2001:db8::7", ""}}));
  HostList l = NetworkList::loopback();
  l.add_lookup(open_item("lmdb;" + path));
  EXPECT_TRUE(l.contains("127.0.0.1"));
  EXPECT_TRUE(l.contains("192.0.2.7"));
  EXPECT_TRUE(l.contains("::ffff:192.0.2.7"));
  EXPECT_EQ(l.match("192.0.2.7").value, "front end");
  EXPECT_TRUE(l.contains("2001:0db8::0007"));
  EXPECT_FALSE(l.contains("192.0.2.8"));
  EXPECT_FALSE(l.contains("unknown"));
  EXPECT_EQ(l.entries(), (std::vector<std::string>{"127.0.0.0/8", "::1", "lmdb;" + path}));

  std::filesystem::remove(path);
  EXPECT_EQ(l.match("192.0.2.7").match, ListMatch::defer);
  EXPECT_FALSE(l.contains("192.0.2.7")) << "a defer grants nothing";
  EXPECT_TRUE(l.contains("127.0.0.1")) << "networks need no file";
}

// ------------------------------------------------------------ config loader

std::string toml_path(const std::string& p) { return "\"lmdb;" + p + "\""; }

TEST(ConfigLookups, ListsReadLookupItems) {
  ScratchDir dir;
  const auto domains = dir.file("domains.mdb");
  const auto hosts = dir.file("hosts.mdb");
  ASSERT_TRUE(build_lmdb(domains, {{"partner.example", "x"}}));
  ASSERT_TRUE(build_lmdb(hosts, {{"192.0.2.7", ""}}));
  const std::string text = "[lookups]\nrecheck_interval = \"5s\"\n[smtp]\n"
                           "local_domains = [\"Example.org\", " + toml_path(domains) + "]\n"
                           "relay_domains = [\"partial-lmdb;" + domains + "\"]\n"
                           "trusted_networks = [\"10.0.0.0/8\", " + toml_path(hosts) + "]\n"
                           "xclient_hosts = [" + toml_path(hosts) + "]\n"
                           "pipeconnect_hosts = [" + toml_path(hosts) + "]\n";
  const ConfigLoad l = load_config_text(text, "t.toml");
  ASSERT_TRUE(l.problems.empty()) << l.problems[0].to_string();
  const auto& s = l.config->smtp;
  EXPECT_EQ(l.config->lookups.recheck_interval, std::chrono::seconds(5));
  EXPECT_EQ(s.local_domains.match("partner.example"), ListMatch::yes);
  EXPECT_EQ(s.local_domains.match("example.org"), ListMatch::yes);
  EXPECT_EQ(s.relay_domains.match("partner.example"), ListMatch::yes);
  EXPECT_TRUE(s.trusted_networks.contains("192.0.2.7"));
  EXPECT_TRUE(s.trusted_networks.contains("10.1.2.3"));
  EXPECT_TRUE(s.xclient_hosts.contains("192.0.2.7"));
  EXPECT_FALSE(s.pipeconnect_hosts.contains("127.0.0.1"));
  // One open file per path, shared by every list that names it.
  EXPECT_EQ(s.local_domains.lookups()[0].lookup, s.relay_domains.lookups()[0].lookup);
}

TEST(ConfigLookups, MissingOrCorruptFilesAreProblemsAtTheirEntry) {
  ScratchDir dir;
  const auto corrupt = dir.file("corrupt.mdb");
  storage::testing::write_file(corrupt, std::string(8192, 'x'));
  const std::string text = "[smtp]\n"
                           "relay_domains = [\"ok.example\",\n  " + toml_path(dir.file("missing.mdb")) + "]\n"
                           "trusted_networks = [" + toml_path(corrupt) + "]\n"
                           "xclient_hosts = [\"partial-lmdb;" + corrupt + "\"]\n"
                           "local_domains = [\"lmdb;etc/relative.mdb\"]\n";
  const ConfigLoad l = load_config_text(text, "t.toml");
  ASSERT_EQ(l.problems.size(), 4u);
  EXPECT_EQ(l.config, nullptr);
  EXPECT_EQ(l.problems[0].to_string(), "t.toml:3:3: smtp.relay_domains[1]: lmdb file " + dir.file("missing.mdb") +
                                           ": cannot open: No such file or directory");
  EXPECT_EQ(l.problems[1].line, 4);
  EXPECT_NE(l.problems[1].message.find("smtp.trusted_networks[0]: lmdb file " + corrupt + ": not a usable LMDB file"),
            std::string::npos)
      << l.problems[1].message;
  EXPECT_NE(l.problems[2].message.find("domain lists only"), std::string::npos) << l.problems[2].message;
  EXPECT_NE(l.problems[3].message.find("absolute"), std::string::npos) << l.problems[3].message;
}

TEST(ConfigLookups, RecheckIntervalIsADuration) {
  const ConfigLoad l = load_config_text("[lookups]\nrecheck_interval = \"soon\"\n", "t.toml");
  ASSERT_EQ(l.problems.size(), 1u);
  EXPECT_NE(l.problems[0].message.find("lookups.recheck_interval"), std::string::npos);
  const ConfigLoad d = load_config_text("", "t.toml");
  ASSERT_NE(d.config, nullptr);
  EXPECT_EQ(d.config->lookups.recheck_interval, std::chrono::seconds(1));
}

}  // namespace
}  // namespace sluice::gateway
