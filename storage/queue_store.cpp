#include "storage/queue_store.hpp"

#include <lmdb.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <vector>

#include "storage/lmdb_error.hpp"

namespace sluice::storage {
namespace {

constexpr MDB_dbi kNoDatabase = ~MDB_dbi{0};
constexpr MDB_dbi kFreeListDatabase = 0;  // LMDB's FREE_DBI
constexpr std::string_view kMapSizeKey = "map_size";

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// Owns a transaction until commit; aborts if still open at scope exit.
struct TxnGuard {
  MDB_txn* txn = nullptr;
  ~TxnGuard() {
    if (txn) ::mdb_txn_abort(txn);
  }
};

// LMDB reports a short write of its pages as EIO ("filesystem full?" in
// mdb_page_flush): the disk filling up mid-commit is the usual cause. Tell
// it apart by asking the filesystem, so a full disk is ENOSPC (452 4.3.1,
// like a full map) and not an I/O error.
std::error_code commit_error(int rc, const std::string& dir) {
  if (rc == EIO) {
    struct statvfs st;
    constexpr std::uint64_t kNearlyFull = 1 << 20;
    if (::statvfs(dir.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize < kNearlyFull)
      return std::make_error_code(std::errc::no_space_on_device);
  }
  return lmdb_error(rc);
}

// Free pages LMDB could give to a value of kFreeRunPages pages, in bytes
// (at the last commit: our write transaction's base). A value larger than a
// page (an inline body, the record of a message with many recipients) needs
// a contiguous run of free pages, or pages past the file's end; single
// pages freed here and there by copy-on-write cannot hold it. 8 pages: the
// record of a message with 100 recipients (limits.max_recipients' default)
// takes about 7.
constexpr std::size_t kFreeRunPages = 8;

std::uint64_t free_bytes_in_runs(MDB_env* env) {
  MDB_stat st;
  ::mdb_env_stat(env, &st);
  std::vector<std::size_t> pages;
  MDB_txn* txn = nullptr;
  // LMDB opens no cursor on its free list in a write transaction: read it in
  // a read transaction of its own (MDB_NOTLS lets one thread hold both).
  if (::mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) != 0) return 0;
  MDB_cursor* c = nullptr;
  if (::mdb_cursor_open(txn, kFreeListDatabase, &c) == 0) {
    // Each value is a list of page numbers led by its length (mdb_stat -f).
    MDB_val k, v;
    while (::mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
      std::size_t n = 0;
      if (v.mv_size >= sizeof n) std::memcpy(&n, v.mv_data, sizeof n);
      n = std::min(n, v.mv_size / sizeof n - 1);
      const std::size_t at = pages.size();
      pages.resize(at + n);
      std::memcpy(pages.data() + at, static_cast<const char*>(v.mv_data) + sizeof n, n * sizeof n);
    }
    ::mdb_cursor_close(c);
  }
  ::mdb_txn_abort(txn);
  std::sort(pages.begin(), pages.end());
  std::uint64_t in_runs = 0;
  for (std::size_t i = 0, run = 1; i < pages.size(); ++i, ++run) {
    if (i + 1 < pages.size() && pages[i + 1] == pages[i] + 1) continue;
    if (run >= kFreeRunPages) in_runs += run;
    run = 0;
  }
  return in_runs * st.ms_psize;
}

}  // namespace

std::optional<std::string_view> QueueView::record_json(std::string_view id) const {
  MDB_val k = val(id), v;
  if (::mdb_get(txn_, messages_, &k, &v) != 0) return std::nullopt;
  return view(v);
}

std::optional<QueueRecord> QueueView::record(std::string_view id) const {
  auto j = record_json(id);
  if (!j) return std::nullopt;
  return queue_record_from_json(*j);
}

std::optional<std::string_view> QueueView::inline_body(std::string_view id) const {
  MDB_val k = val(id), v;
  if (::mdb_get(txn_, bodies_, &k, &v) != 0) return std::nullopt;
  return view(v);
}

void QueueView::for_each(const std::function<bool(std::string_view, std::string_view)>& fn) const {
  MDB_cursor* c = nullptr;
  if (::mdb_cursor_open(txn_, messages_, &c) != 0) return;
  MDB_val k, v;
  for (int rc = ::mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = ::mdb_cursor_get(c, &k, &v, MDB_NEXT))
    if (!fn(view(k), view(v))) break;
  ::mdb_cursor_close(c);
}

void QueueView::for_each_due(std::int64_t now, const std::function<bool(std::string_view)>& fn) const {
  MDB_cursor* c = nullptr;
  if (::mdb_cursor_open(txn_, deferred_, &c) != 0) return;
  MDB_val k, v;
  for (int rc = ::mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = ::mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    std::int64_t when = 0;
    if (v.mv_size == sizeof when) std::memcpy(&when, v.mv_data, sizeof when);
    if (when <= now && !fn(view(k))) break;
  }
  ::mdb_cursor_close(c);
}

std::uint64_t QueueView::count() const {
  MDB_stat st;
  if (::mdb_stat(txn_, messages_, &st) != 0) return 0;
  return st.ms_entries;
}

std::error_code QueueWriter::put(const QueueRecord& r) {
  const std::string json = to_json(r);
  const std::string_view id = r.envelope.id;
  written_ += id.size() + json.size();
  MDB_val k = val(id), v = val(json);
  if (int rc = ::mdb_put(txn_, messages_, &k, &v, 0)) return lmdb_error(rc);
  if (r.state == MessageState::deferred) {
    std::int64_t when = r.next_retry;
    MDB_val tv{sizeof when, &when};
    k = val(id);
    if (int rc = ::mdb_put(txn_, deferred_, &k, &tv, 0)) return lmdb_error(rc);
  } else {
    k = val(id);
    int rc = ::mdb_del(txn_, deferred_, &k, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(rc);
  }
  return {};
}

std::error_code QueueWriter::put_inline_body(std::string_view id, std::string_view bytes) {
  written_ += id.size() + bytes.size();
  MDB_val k = val(id), v = val(bytes);
  return lmdb_error(::mdb_put(txn_, bodies_, &k, &v, 0));
}

std::error_code QueueWriter::erase_body(std::string_view id) {
  MDB_val k = val(id);
  int rc = ::mdb_del(txn_, bodies_, &k, nullptr);
  return rc == MDB_NOTFOUND ? std::error_code{} : lmdb_error(rc);
}

std::error_code QueueWriter::erase_record(std::string_view id) {
  for (unsigned dbi : {messages_, deferred_}) {
    MDB_val k = val(id);
    int rc = ::mdb_del(txn_, dbi, &k, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(rc);
  }
  return {};
}

std::uint64_t QueueWriter::map_extent() const {
  // The last page number never goes down: LMDB reuses freed pages but does
  // not shrink the file.
  MDB_env* env = ::mdb_txn_env(txn_);
  MDB_envinfo info;
  MDB_stat st;
  ::mdb_env_info(env, &info);  // the last commit's, which our write transaction starts from
  ::mdb_env_stat(env, &st);
  return (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize + written_;
}

std::uint64_t QueueWriter::data_bytes() const {
  MDB_stat st;
  std::uint64_t pages = 0, page_size = 4096;
  // 0 and 1: LMDB's free-list and main databases (FREE_DBI, MAIN_DBI).
  for (unsigned dbi : {0u, 1u, messages_, bodies_, deferred_}) {
    if (::mdb_stat(txn_, dbi, &st) != 0) continue;
    pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    page_size = st.ms_psize;
  }
  return pages * page_size + written_;
}

std::uint64_t QueueWriter::map_in_use() const {
  if (!free_in_runs_) free_in_runs_ = free_bytes_in_runs(::mdb_txn_env(txn_));
  const std::uint64_t extent = map_extent();
  return extent - std::min(*free_in_runs_, extent);
}

std::unique_ptr<QueueStore> QueueStore::open(const std::string& spool_dir, const QueueStoreOptions& options,
                                             std::error_code& ec, std::string& error_text) {
  namespace fs = std::filesystem;
  std::unique_ptr<QueueStore> s(new QueueStore);
  s->spool_dir_ = spool_dir;
  const std::string env_dir = spool_dir + "/queue";
  if (!options.read_only) {
    for (const std::string& d : {env_dir, spool_dir + "/bodies"}) {
      fs::create_directories(d, ec);
      if (ec) {
        error_text = "cannot create " + d + ": " + ec.message();
        return nullptr;
      }
    }
  }
  auto fail = [&](int rc, const std::string& what) {
    ec = lmdb_error(rc);
    error_text = what + " " + env_dir + ": " + ec.message();
    return nullptr;
  };
  const bool guest = options.role == QueueStoreRole::guest;
  if (int rc = ::mdb_env_create(&s->env_)) return fail(rc, "cannot create LMDB environment for");
  ::mdb_env_set_maxdbs(s->env_, 4);
  ::mdb_env_set_maxreaders(s->env_, 254);
  // A guest opens with no size of its own: LMDB then maps the size stored in
  // the file (the largest any writer ever used), until the owner's is read.
  if (!guest) {
    if (int rc = ::mdb_env_set_mapsize(s->env_, options.map_size)) return fail(rc, "cannot set the map size of");
  }
  // MDB_NOTLS: read transactions are not tied to threads (the runner and the
  // committer are different threads). Durability flags stay at LMDB's safe
  // defaults: commit = data pages + fsync + meta page + fsync.
  unsigned flags = MDB_NOTLS | (options.read_only ? MDB_RDONLY : 0u);
  if (int rc = ::mdb_env_open(s->env_, env_dir.c_str(), flags, 0640)) return fail(rc, "cannot open");
  s->clear_stale_readers();
  if (int rc = s->open_databases(options.read_only)) return fail(rc, "cannot open the databases of");
  s->own_map_size_ = options.map_size;
  if (guest) {
    if (int rc = s->follow_recorded_map_size()) return fail(rc, "cannot map the recorded size of");
  } else if (!options.read_only) {
    // Not fatal: a map full to its last page has no room for it (then
    // guests map the size stored in the file, see map_size_recorded()).
    s->map_size_recorded_ = s->record_map_size() == 0;
  }
  ec.clear();
  return s;
}

int QueueStore::open_databases(bool read_only) {
  TxnGuard t;
  if (int rc = ::mdb_txn_begin(env_, nullptr, read_only ? MDB_RDONLY : 0, &t.txn)) return rc;
  const unsigned create = read_only ? 0u : MDB_CREATE;
  for (auto [name, dbi] : {std::pair{"messages", &messages_}, {"bodies", &bodies_}, {"deferred", &deferred_}})
    if (int rc = ::mdb_dbi_open(t.txn, name, create, dbi)) return rc;
  // Never created here: on a full map that would fail the open.
  int rc = ::mdb_dbi_open(t.txn, "settings", 0, &settings_);
  if (rc == MDB_NOTFOUND) settings_ = kNoDatabase;
  else if (rc) return rc;
  rc = ::mdb_txn_commit(t.txn);
  t.txn = nullptr;
  return rc;
}

int QueueStore::record_map_size() {
  // What we map: map_size, or more when the file is larger already.
  const std::uint64_t size = map_size();
  TxnGuard t;
  if (int rc = ::mdb_txn_begin(env_, nullptr, 0, &t.txn)) return rc;
  MDB_dbi dbi;
  if (int rc = ::mdb_dbi_open(t.txn, "settings", MDB_CREATE, &dbi)) return rc;
  MDB_val k = val(kMapSizeKey), v;
  if (::mdb_get(t.txn, dbi, &k, &v) != 0 || v.mv_size != sizeof size || std::memcmp(v.mv_data, &size, sizeof size)) {
    v = MDB_val{sizeof size, const_cast<std::uint64_t*>(&size)};
    if (int rc = ::mdb_put(t.txn, dbi, &k, &v, 0)) return rc;
  }
  int rc = ::mdb_txn_commit(t.txn);
  t.txn = nullptr;
  if (rc == 0) settings_ = dbi;
  return rc;
}

int QueueStore::follow_recorded_map_size() {
  std::uint64_t recorded = 0;
  if (settings_ != kNoDatabase) {
    TxnGuard t;
    if (int rc = ::mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn)) return rc;
    MDB_val k = val(kMapSizeKey), v;
    if (::mdb_get(t.txn, settings_, &k, &v) == 0 && v.mv_size == sizeof recorded)
      std::memcpy(&recorded, v.mv_data, sizeof recorded);
  }
  if (recorded) own_map_size_ = recorded;
  // Nothing recorded and no size given: keep the one stored in the file.
  if (!own_map_size_) own_map_size_ = map_size();
  // No transaction is open: the map may change. LMDB raises a size below
  // what the file already uses to that size.
  return ::mdb_env_set_mapsize(env_, own_map_size_);
}

QueueStore::~QueueStore() {
  if (env_) ::mdb_env_close(env_);
}

std::uint64_t QueueStore::map_size() const {
  std::shared_lock lock(map_lock_);
  MDB_envinfo info;
  ::mdb_env_info(env_, &info);
  return info.me_mapsize;
}

int QueueStore::clear_stale_readers() {
  int dead = 0;
  if (::mdb_reader_check(env_, &dead) != 0) return 0;
  return dead;
}

int QueueStore::begin(unsigned flags, MDB_txn** txn, std::shared_lock<std::shared_mutex>& lock) const {
  lock = std::shared_lock(map_lock_);
  int rc = ::mdb_txn_begin(env_, nullptr, flags, txn);
  if (rc != MDB_MAP_RESIZED) return rc;
  // Another process grew the file past our map: adopt the map size it used
  // (size 0: the one stored in the file, lmdb.h), once no transaction of
  // ours is open, and begin again. Our own size would not do: LMDB would
  // raise it to exactly what the file uses, leaving no room to write.
  lock.unlock();
  {
    std::unique_lock remap(map_lock_);
    if (int e = ::mdb_env_set_mapsize(env_, 0)) return e;
  }
  lock.lock();
  return ::mdb_txn_begin(env_, nullptr, flags, txn);
}

std::error_code QueueStore::read(const std::function<void(const QueueView&)>& fn) const {
  std::shared_lock<std::shared_mutex> lock;
  TxnGuard t;  // declared after the lock: the transaction ends before the lock is let go
  if (int rc = begin(MDB_RDONLY, &t.txn, lock)) return lmdb_error(rc);
  QueueView v(t.txn, messages_, bodies_, deferred_);
  fn(v);
  return {};
}

std::error_code QueueStore::write(const std::function<std::error_code(QueueWriter&)>& fn) {
  std::shared_lock<std::shared_mutex> lock;
  TxnGuard t;
  if (int rc = begin(0, &t.txn, lock)) return lmdb_error(rc);
  QueueWriter w(t.txn, messages_, bodies_, deferred_, own_map_size_);
  if (auto ec = fn(w)) return ec;  // the guard aborts
  int rc = ::mdb_txn_commit(t.txn);
  t.txn = nullptr;  // commit frees the transaction, even when it fails
  return commit_error(rc, spool_dir_ + "/queue");
}

}  // namespace sluice::storage
