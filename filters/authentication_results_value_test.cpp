// Values in Authentication-Results (RFC 8601 2.2): MIME tokens bare,
// addresses bare only with a domain name, everything else quoted, nothing
// that could end the field.
#include "filters/authentication_results_value.hpp"

#include <gtest/gtest.h>

namespace sluice::filters {
namespace {

TEST(AuthenticationResultsValue, TokensBareEverythingElseQuoted) {
  EXPECT_EQ(authentication_results_value("mx.example.net"), "mx.example.net");
  EXPECT_EQ(authentication_results_value("under_score-1.example"), "under_score-1.example");
  for (const char* tspecial : {"(", ")", "<", ">", "@", ",", ";", ":", "\\", "\"", "/", "[", "]", "?", "="})
    EXPECT_EQ(authentication_results_value(std::string("a") + tspecial + "b").front(), '"') << tspecial;
  EXPECT_EQ(authentication_results_value("a b"), "\"a b\"");
  EXPECT_EQ(authentication_results_value(""), "\"\"");
  EXPECT_EQ(authentication_results_value("say \"hi\" \\"), "\"say \\\"hi\\\" \\\\\"");
  EXPECT_EQ(authentication_results_value("evil\r\nX-Forged: 1"), "\"evil??X-Forged: 1\"");
  EXPECT_EQ(authentication_results_value("caf\xc3\xa9"), "\"caf??\"");
}

TEST(AuthenticationResultsValue, AddressesNeedADomainName) {
  EXPECT_EQ(authentication_results_address("first.last+tag@mail.example.com"), "first.last+tag@mail.example.com");
  EXPECT_EQ(authentication_results_address("a@x1.example-2.com"), "a@x1.example-2.com");
  EXPECT_EQ(authentication_results_address("postmaster@localhost"), "\"postmaster@localhost\"");  // one label
  EXPECT_EQ(authentication_results_address("a@x-.example"), "\"a@x-.example\"");
  EXPECT_EQ(authentication_results_address("a@x..example"), "\"a@x..example\"");
  EXPECT_EQ(authentication_results_address("a@x.example."), "\"a@x.example.\"");
  EXPECT_EQ(authentication_results_address("a@under_score.example"), "\"a@under_score.example\"");
  EXPECT_EQ(authentication_results_address(".a@example.com"), "\".a@example.com\"");
  EXPECT_EQ(authentication_results_address("a/b@example.com"), "\"a/b@example.com\"");
  EXPECT_EQ(authentication_results_address("\"q l\"@example.com"), "\"\\\"q l\\\"@example.com\"");
  EXPECT_EQ(authentication_results_address("no-at-sign"), "no-at-sign");  // a token
}

}  // namespace
}  // namespace sluice::filters
