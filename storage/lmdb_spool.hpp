// lmdb_spool.hpp — the durable spool: message records in LMDB (queue_store),
// committed in groups (group_committer), bodies inline or in files.
//
// A message's life in the spool:
//   receiving   bytes collect in the writer's memory while they fit in
//               inline_max; beyond that they are written (on the blocking
//               pool) to bodies/<id> as they come, so a 50 MB message costs
//               the session at most ~inline_max + one write buffer.
//   commit      spilled bodies: rest written, fdatasync'd (pool), then the
//               record goes to the group committer, which fsyncs bodies/
//               before the transaction that names the file. Inline bodies go
//               into the same transaction as their record. The transaction's
//               commit is the commit point: the 250 follows it.
//   abandoned   a writer destroyed without commit removes its spill file.
// Start-up recovery: files in bodies/ whose id no record has are
// half-received messages and are removed (a record that does not parse keeps
// its file); records left "delivering" by a crash go back to "queued".
// Nothing committed is lost, nothing uncommitted appears.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/blocking_pool.hpp"
#include "storage/group_committer.hpp"
#include "storage/queue_store.hpp"
#include "storage/spool.hpp"

namespace sluice::storage {

struct LmdbSpoolOptions {
  std::string directory;
  std::uint64_t map_size = 4ull << 30;
  std::size_t inline_max = 128 * 1024;  // larger bodies get a file of their own
};

struct SpoolRecovery {
  std::uint64_t queued = 0;                // records in the queue after recovery
  std::uint64_t removed_orphan_bodies = 0; // half-received messages
  std::uint64_t requeued_delivering = 0;   // interrupted deliveries
  std::uint64_t missing_bodies = 0;        // records whose body file is gone (logged by the caller)
  std::vector<std::string> unreadable_records;  // ids whose record does not parse: kept, with any
                                                // body file, but not routed (logged by the caller)
};

class LmdbSpool : public Spool {
 public:
  // Throws std::runtime_error naming the path when the spool cannot be
  // opened or recovered: start-up only.
  LmdbSpool(const LmdbSpoolOptions& options, BlockingPool& pool, SpoolRecovery* recovery = nullptr);
  ~LmdbSpool() override;

  std::unique_ptr<MessageWriter> begin(const std::string& id) override;
  std::string_view kind() const override { return "lmdb"; }
  bool writable() const override;

  QueueStore& store() { return *store_; }
  GroupCommitter& committer() { return *committer_; }
  // Called (on a worker thread) after each successful commit; the queue
  // runner hears of new messages this way.
  void set_on_committed(std::function<void(const std::string& id)> fn) { on_committed_ = std::move(fn); }
  const std::function<void(const std::string&)>& on_committed() const { return on_committed_; }
  const LmdbSpoolOptions& options() const { return options_; }
  BlockingPool& pool() { return pool_; }

 private:
  LmdbSpoolOptions options_;
  BlockingPool& pool_;
  std::unique_ptr<QueueStore> store_;
  std::unique_ptr<GroupCommitter> committer_;
  std::function<void(const std::string&)> on_committed_;
};

// Says 250 for data it throws away. For benchmarks of the protocol path only.
std::unique_ptr<Spool> make_discard_spool();

}  // namespace sluice::storage
