// [dns]: defaults, values, and the problems a bad value gives.
#include <gtest/gtest.h>

#include "gateway/config_loader.hpp"

namespace sluice::gateway {
namespace {

ConfigLoad load(std::string_view text) { return load_config_text(text, "test.toml"); }

std::string problems(const ConfigLoad& l) {
  std::string out;
  for (const auto& p : l.problems) out += p.to_string() + "\n";
  return out;
}

void expect_default_dns(const DnsConfig& d) {
  const DnsConfig want;
  EXPECT_EQ(d.servers, want.servers);
  EXPECT_TRUE(d.servers.empty());  // resolv.conf's
  EXPECT_EQ(d.port, 53);
  EXPECT_EQ(d.timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(d.tries, 2u);
  EXPECT_EQ(d.cache_entries, 10000u);
  EXPECT_EQ(d.negative_ttl, std::chrono::seconds(300));
}

TEST(ConfigDns, DefaultsInConfigHppAndTheEmbeddedFileAgree) {
  expect_default_dns(DnsConfig{});
  const ConfigLoad l = load_config_text(embedded_default_config(), "<embedded default>");
  ASSERT_NE(l.config, nullptr) << problems(l);
  expect_default_dns(l.config->dns);
  const ConfigLoad empty = load("");
  ASSERT_NE(empty.config, nullptr);
  expect_default_dns(empty.config->dns);
}

TEST(ConfigDns, AllKeys) {
  const ConfigLoad l = load(
      "[dns]\nservers = [\"127.0.0.1\", \"::1\"]\nport = 5353\ntimeout = \"3s\"\ntries = 4\n"
      "cache_entries = 0\nnegative_ttl = \"1m\"\n");
  ASSERT_NE(l.config, nullptr) << problems(l);
  const DnsConfig& d = l.config->dns;
  EXPECT_EQ(d.servers, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(d.port, 5353);
  EXPECT_EQ(d.timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(d.tries, 4u);
  EXPECT_EQ(d.cache_entries, 0u);
  EXPECT_EQ(d.negative_ttl, std::chrono::seconds(60));
}

TEST(ConfigDns, BadValuesAreReportedWithTheirPosition) {
  const ConfigLoad l = load("[dns]\nservers = [\"dns.example\", 5]\nport = 0\ntimeout = \"2 weeks\"\n"
                            "tries = 0\nnegative_ttl = \"2d\"\nresolvers = []\n");
  EXPECT_EQ(l.config, nullptr);
  const std::string all = problems(l);
  EXPECT_NE(all.find("test.toml:2:"), std::string::npos) << all;
  EXPECT_NE(all.find("dns.servers[0]"), std::string::npos) << all;
  EXPECT_NE(all.find("dns.servers[1]"), std::string::npos) << all;
  EXPECT_NE(all.find("dns.port"), std::string::npos) << all;
  EXPECT_NE(all.find("dns.timeout"), std::string::npos) << all;
  EXPECT_NE(all.find("dns.tries"), std::string::npos) << all;
  EXPECT_NE(all.find("dns.negative_ttl"), std::string::npos) << all;
  EXPECT_NE(all.find("resolvers"), std::string::npos) << all;  // unknown key
  EXPECT_EQ(l.problems.size(), 7u) << all;
}

}  // namespace
}  // namespace sluice::gateway
