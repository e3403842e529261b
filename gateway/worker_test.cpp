// The worker's count of live work, which the drain waits on: sessions and
// the background tasks they leave behind (a DMARC report's commit).
#include "gateway/worker.hpp"

#include <gtest/gtest.h>

namespace sluice::gateway {
namespace {

TEST(Worker, ABackgroundTaskCountsAsLiveUntilItsTokenGoes) {
  Worker w(0, DnsConfig{});
  EXPECT_EQ(w.live_connections(), 0u);
  auto first = w.background_task();
  auto second = w.background_task();
  EXPECT_EQ(w.live_connections(), 2u);
  auto copy = first;  // a completion handler copied around is still one task
  first.reset();
  EXPECT_EQ(w.live_connections(), 2u);
  copy.reset();
  EXPECT_EQ(w.live_connections(), 1u);
  second.reset();
  EXPECT_EQ(w.live_connections(), 0u);
}

}  // namespace
}  // namespace sluice::gateway
