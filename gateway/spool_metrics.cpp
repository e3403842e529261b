#include "gateway/spool_metrics.hpp"

#include <array>

#include "metrics/sluice_metrics.hpp"

namespace sluice::gateway {

namespace {
constexpr std::size_t kStates = 5;  // storage::MessageState
}  // namespace

void attach_spool_metrics(storage::LmdbSpool& spool, std::weak_ptr<void> alive) {
  auto& m = metrics::sluice_metrics();
  metrics::Counter& no_space = m.spool_commit_failures.with({"no_space"});
  metrics::Counter& other = m.spool_commit_failures.with({"error"});
  spool.committer().set_observer([&m, &no_space, &other](std::size_t batch, double seconds, std::error_code ec) {
    m.spool_commit_seconds.observe(seconds);
    m.spool_messages_per_commit.observe(static_cast<double>(batch));
    if (ec) (ec == std::errc::no_space_on_device ? no_space : other).inc();
  });

  static constexpr std::array states = {storage::MessageState::queued, storage::MessageState::delivering,
                                 storage::MessageState::deferred, storage::MessageState::done,
                                 storage::MessageState::bounced};
  static_assert(states.size() == kStates);
  std::array<metrics::Gauge*, kStates> gauges{};
  for (std::size_t i = 0; i < states.size(); ++i)
    gauges[i] = &m.queue_messages.with({std::string(storage::name_of(states[i]))});
  storage::QueueStore* store = &spool.store();
  m.registry.add_collector([alive = std::move(alive), store, gauges] {
    if (alive.expired()) return;
    std::array<double, kStates> counts{};
    store->read([&](const storage::QueueView& v) {
      v.for_each([&](std::string_view, std::string_view json) {
        if (auto s = storage::peek_state(json)) counts[static_cast<std::size_t>(*s)] += 1;
        return true;
      });
    });
    for (std::size_t i = 0; i < kStates; ++i) gauges[i]->set(counts[i]);
  });
}

}  // namespace sluice::gateway
