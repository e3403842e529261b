#include "gateway/config_values.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;

TEST(ConfigValues, ParseDuration) {
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("5m"), 300s);
  EXPECT_EQ(parse_duration("1h"), 3600s);
  EXPECT_EQ(parse_duration("0s"), 0s);  // parsed; the reader refuses it
  EXPECT_FALSE(parse_duration("30"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("1h30m"));
  EXPECT_FALSE(parse_duration(" 5m"));
  EXPECT_FALSE(parse_duration("5M"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("99999999999999999999h"));
}

TEST(ConfigValues, ParseSize) {
  EXPECT_EQ(parse_size("64K"), 64u * 1024);
  EXPECT_EQ(parse_size("64k"), 64u * 1024);
  EXPECT_EQ(parse_size("50M"), 50u * 1024 * 1024);
  EXPECT_EQ(parse_size("1G"), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_size("0K"), 0u);  // parsed; the reader applies the minimum
  EXPECT_FALSE(parse_size("50"));
  EXPECT_FALSE(parse_size("50MB"));
  EXPECT_FALSE(parse_size("50T"));
  EXPECT_FALSE(parse_size("M"));
  EXPECT_FALSE(parse_size("-1K"));
  EXPECT_FALSE(parse_size("17179869184G"));  // 2^34 G overflows 64 bits
  EXPECT_EQ(parse_size("17179869183G"), 17179869183ull << 30);
}

TEST(ConfigValues, DomainNameSyntax) {
  EXPECT_TRUE(is_domain_name("localhost"));
  EXPECT_TRUE(is_domain_name("xn--bcher-kva.example"));
  EXPECT_TRUE(is_domain_name("a-b.c0"));
  EXPECT_FALSE(is_domain_name(""));
  EXPECT_FALSE(is_domain_name("example.org."));
  EXPECT_FALSE(is_domain_name(".example.org"));
  EXPECT_FALSE(is_domain_name("ex-.org"));
  EXPECT_FALSE(is_domain_name(std::string(64, 'a') + ".org"));
  EXPECT_TRUE(is_domain_name(std::string(63, 'a') + ".org"));
  EXPECT_FALSE(is_domain_name("b\xc3\xbc" "cher.example"));
}

TEST(ConfigValues, AsciiLower) {
  EXPECT_EQ(ascii_lower("MX1.Example.ORG"), "mx1.example.org");
  EXPECT_EQ(ascii_lower("a-0_Z"), "a-0_z");
}

}  // namespace
}  // namespace sluice::gateway
