// queue_store.hpp — the queue's LMDB environment: the index of committed
// messages, their envelopes and states, and the bodies small enough to live
// in the database.
//
// Layout under the spool directory:
//   queue/data.mdb, queue/lock.mdb   the LMDB environment, four databases:
//     messages   id → QueueRecord JSON (storage/queue_record.hpp)
//     bodies     id → message bytes, for bodies kept inline
//     deferred   id → next retry time (8 bytes, host order): the retry index,
//                so the runner's once-a-second check reads only these
//     settings   "map_size" → the gateway's map size (8 bytes, host order)
//   bodies/<id>                      bodies too large to keep inline
// Ids are time-sortable, so a cursor over `messages` walks the queue oldest
// first.
//
// Several processes may use it at once (the gateway writes; `sluice queue`
// reads, and writes for retry/delete): LMDB serialises writers with its lock
// file and readers never block. Every write transaction commits with fsync
// (no MDB_NOSYNC/NOMETASYNC): a committed transaction survives a crash.
//
// The map: each process maps the file with a size of its own, and a write
// may grow the file up to the writer's map. A process whose map the file has
// outgrown gets MDB_MAP_RESIZED from every transaction it begins. So the
// gateway (the owner) records its map size in `settings`, and `sluice queue`
// (a guest) writes within that size, never past it. Should the file outgrow
// our map anyway (an older `sluice queue`), read() and write() adopt the
// larger map and go on (see map_lock_ below).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <system_error>

#include "storage/queue_record.hpp"

typedef struct MDB_env MDB_env;
typedef struct MDB_txn MDB_txn;

namespace sluice::storage {

enum class QueueStoreRole {
  owner,  // the gateway: maps map_size (or what the file uses, if more), and records that
  guest,  // `sluice queue`: maps the size the owner recorded; if none, map_size (0: the file's)
};

struct QueueStoreOptions {
  std::uint64_t map_size = 4ull << 30;  // address space reserved; the file grows as used
  bool read_only = false;
  QueueStoreRole role = QueueStoreRole::owner;
};

// A read transaction's view. Views of bytes are valid until the callback
// that received this returns.
class QueueView {
 public:
  std::optional<std::string_view> record_json(std::string_view id) const;
  std::optional<QueueRecord> record(std::string_view id) const;
  std::optional<std::string_view> inline_body(std::string_view id) const;
  // Oldest first; return false from fn to stop.
  void for_each(const std::function<bool(std::string_view id, std::string_view json)>& fn) const;
  // Deferred messages whose retry time is <= now.
  void for_each_due(std::int64_t now, const std::function<bool(std::string_view id)>& fn) const;
  std::uint64_t count() const;

 protected:
  friend class QueueStore;
  QueueView(MDB_txn* txn, unsigned messages, unsigned bodies, unsigned deferred)
      : txn_(txn), messages_(messages), bodies_(bodies), deferred_(deferred) {}
  MDB_txn* txn_;
  unsigned messages_, bodies_, deferred_;
};

class QueueWriter : public QueueView {
 public:
  // Writes the record (and keeps the retry index in step with its state).
  std::error_code put(const QueueRecord& r);
  std::error_code put_inline_body(std::string_view id, std::string_view bytes);
  std::error_code erase_body(std::string_view id);    // inline value, if any
  std::error_code erase_record(std::string_view id);  // record and retry entry

  // The map as this transaction would leave it, in bytes, roughly (page
  // overheads are not counted); storage/map_headroom.hpp decides with these.
  // The size this process asked for (spool.map_size for the gateway).
  std::uint64_t own_map_size() const { return own_map_size_; }
  // The file up to its last page at the last commit, plus the bytes put
  // since. Cheap; never less than map_in_use().
  std::uint64_t map_extent() const;
  // That, less the free pages LMDB could give a value of several pages: a
  // large value needs a contiguous run of them, so free pages in shorter
  // runs are counted as used (kFreeRunPages, queue_store.cpp). Walks LMDB's
  // free list the first time in a transaction.
  std::uint64_t map_in_use() const;
  // The pages that hold data in every database, LMDB's own included (its
  // free list's pages, not the free pages it lists), plus the bytes put
  // since: a lower bound of map_in_use() that costs a few mdb_stat calls.
  std::uint64_t data_bytes() const;

 private:
  friend class QueueStore;
  QueueWriter(MDB_txn* txn, unsigned messages, unsigned bodies, unsigned deferred, std::uint64_t own_map_size)
      : QueueView(txn, messages, bodies, deferred), own_map_size_(own_map_size) {}
  std::uint64_t own_map_size_;
  std::uint64_t written_ = 0;                         // bytes put in this transaction
  mutable std::optional<std::uint64_t> free_in_runs_;  // bytes, at the last commit
};

class QueueStore {
 public:
  // Creates <spool>/queue and <spool>/bodies unless read_only. Errors name
  // the path; no throw.
  static std::unique_ptr<QueueStore> open(const std::string& spool_dir, const QueueStoreOptions& options,
                                          std::error_code& ec, std::string& error_text);
  ~QueueStore();
  QueueStore(const QueueStore&) = delete;
  QueueStore& operator=(const QueueStore&) = delete;

  const std::string& spool_dir() const { return spool_dir_; }
  // The size this process maps (LMDB raises it to what the file uses).
  std::uint64_t map_size() const;
  // Whether the owner could record its map size at open (it cannot when the
  // map is full to the last page); guests then map the largest size any
  // process ever used on this file, which may exceed the owner's.
  bool map_size_recorded() const { return map_size_recorded_; }
  std::string body_path(std::string_view id) const { return spool_dir_ + "/bodies/" + std::string(id); }

  // Frees reader slots left by processes that died inside a read (a
  // `sluice queue list | head` killed by SIGPIPE): LMDB never reuses pages
  // such a slot still pins, so the database would grow until the map is
  // full. Done at open and by the queue runner's sweep. Returns how many.
  int clear_stale_readers();

  std::error_code read(const std::function<void(const QueueView&)>& fn) const;
  // One write transaction: fn's error aborts it, otherwise it commits
  // (fsync). The group committer runs many messages through one of these.
  std::error_code write(const std::function<std::error_code(QueueWriter&)>& fn);

 private:
  QueueStore() = default;
  // These return LMDB codes.
  int open_databases(bool read_only);
  int record_map_size();
  int follow_recorded_map_size();
  // Begins a transaction with map_lock_ held shared in `lock`.
  int begin(unsigned flags, MDB_txn** txn, std::shared_lock<std::shared_mutex>& lock) const;

  std::string spool_dir_;
  MDB_env* env_ = nullptr;
  unsigned messages_ = 0, bodies_ = 0, deferred_ = 0;
  unsigned settings_ = ~0u;  // none: a store no owner has recorded its map size in
  // The size this process asked for: the owner's configured one, the size a
  // guest found recorded. The map may be larger: LMDB raises it to what the
  // file uses, and after MDB_MAP_RESIZED we take the size of whoever grew it.
  std::uint64_t own_map_size_ = 0;
  bool map_size_recorded_ = false;
  // LMDB lets a process change its map only while it has no transaction
  // open (lmdb.h, mdb_env_set_mapsize), and ours are begun on several
  // threads (MDB_NOTLS: sessions' group commits, the queue runner, the
  // metrics collector). So every transaction holds this lock shared for its
  // whole life, and the remap after MDB_MAP_RESIZED holds it exclusively:
  // it waits for the transactions in flight, and new ones wait for it.
  mutable std::shared_mutex map_lock_;
};

}  // namespace sluice::storage
