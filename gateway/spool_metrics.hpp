// spool_metrics.hpp — connects the durable spool to the metrics families
// made for it in metrics/sluice_metrics.hpp: commit latency and batch size
// (observed on the committer thread after every transaction), commit
// failures by reason, and the queue's size by state (counted at scrape time
// by the metrics thread, in one LMDB read transaction that never blocks the
// writer).
#pragma once
#include <memory>

#include "storage/lmdb_spool.hpp"

namespace sluice::gateway {

// `alive` guards the scrape-time collector: once it has expired (the
// gateway is shutting down), the collector does nothing.
void attach_spool_metrics(storage::LmdbSpool& spool, std::weak_ptr<void> alive);

}  // namespace sluice::gateway
