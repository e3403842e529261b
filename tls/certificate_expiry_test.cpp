// expiry_warnings: which certificates get a warning, and how many days it says.
#include "tls/certificate_expiry.hpp"

#include <gtest/gtest.h>

namespace sluice::tls {
namespace {

constexpr std::time_t kNow = 1'800'000'000;
constexpr std::time_t kDay = 86400;

std::vector<ExpiryWarning> warnings_for(std::time_t not_after) {
  return expiry_warnings({{"mx", {"/tls/mx.pem", not_after, 0}}}, kNow);
}

TEST(CertificateExpiry, QuietUntilTwoWeeksBefore) {
  EXPECT_TRUE(warnings_for(kNow + 30 * kDay).empty());
  EXPECT_TRUE(warnings_for(kNow + 14 * kDay + 1).empty());
  const auto at_edge = warnings_for(kNow + 14 * kDay);
  ASSERT_EQ(at_edge.size(), 1u);
  EXPECT_FALSE(at_edge[0].expired);
  EXPECT_EQ(at_edge[0].days, 14);
}

TEST(CertificateExpiry, WholeDaysLeftOrSinceAndTheText) {
  const auto soon = warnings_for(kNow + 5 * kDay + kDay / 2);
  ASSERT_EQ(soon.size(), 1u);
  EXPECT_EQ(soon[0].days, 5);
  EXPECT_EQ(soon[0].text(), "expires in 5 days");
  EXPECT_EQ(soon[0].listener, "mx");
  EXPECT_EQ(soon[0].file, "/tls/mx.pem");
  const auto today = warnings_for(kNow + 60);
  ASSERT_EQ(today.size(), 1u);
  EXPECT_EQ(today[0].text(), "expires within a day");
  EXPECT_EQ(warnings_for(kNow - 60)[0].text(), "expired less than a day ago");
  const auto expired = warnings_for(kNow - kDay - kDay / 2);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_TRUE(expired[0].expired);
  EXPECT_EQ(expired[0].text(), "expired 1 day ago");
}

TEST(CertificateExpiry, AnUnreadableDateSaysNothing) { EXPECT_TRUE(warnings_for(0).empty()); }

TEST(CertificateExpiry, OnlyTheCertificatesDueAreListed) {
  const auto w = expiry_warnings({{"mx", {"/a.pem", kNow + 90 * kDay, 0}},
                                  {"mx", {"/b.pem", kNow + 2 * kDay, 0}},
                                  {"submission", {"/c.pem", kNow - 3 * kDay, 0}}},
                                 kNow);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].file, "/b.pem");
  EXPECT_EQ(w[1].listener, "submission");
  EXPECT_TRUE(w[1].expired);
}

}  // namespace
}  // namespace sluice::tls
