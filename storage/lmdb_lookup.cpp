#include "storage/lmdb_lookup.hpp"

#include <lmdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace sluice::storage {

namespace {

// What identifies the file behind a path: a rename puts another inode
// there; size and mtime catch a copy written over the old one.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_sec = 0;
  long mtime_nsec = 0;
  bool operator==(const FileId&) const = default;
};

FileId file_id(const struct stat& st) {
  return FileId{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

std::string errno_text(int e) { return std::strerror(e); }

// stat()s the data file: the path itself, or data.mdb inside a directory.
bool stat_data_file(const std::string& path, struct stat& st, std::string& error) {
  if (::stat(path.c_str(), &st) != 0) {
    error = "cannot open: " + errno_text(errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) return true;
  const std::string data = path + "/data.mdb";
  if (::stat(data.c_str(), &st) != 0) {
    error = "cannot open " + data + ": " + errno_text(errno);
    return false;
  }
  return true;
}

}  // namespace

struct LmdbLookup::Env {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  FileId id;
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env() {
    if (env) mdb_env_close(env);
  }
};

// Opens `path` read-only and checks it is a whole LMDB file whose main
// database can be read. nullptr and `error` when it cannot be used.
std::shared_ptr<const LmdbLookup::Env> LmdbLookup::open_env(const std::string& path, std::string& error) {
  struct stat st;
  if (!stat_data_file(path, st, error)) return nullptr;
  if (st.st_size == 0) {  // LMDB itself would say ENOENT here
    error = "file is empty, not an LMDB file";
    return nullptr;
  }
  bool directory = false;
  struct stat top;
  if (::stat(path.c_str(), &top) == 0) directory = S_ISDIR(top.st_mode);

  auto e = std::make_shared<Env>();
  int rc = mdb_env_create(&e->env);
  if (rc != 0) {
    e->env = nullptr;
    error = mdb_strerror(rc);
    return nullptr;
  }
  unsigned flags = MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK | MDB_NORDAHEAD;
  if (!directory) flags |= MDB_NOSUBDIR;
  rc = mdb_env_open(e->env, path.c_str(), flags, 0);
  if (rc != 0) {
    error = std::string("not a usable LMDB file: ") + mdb_strerror(rc);
    return nullptr;  // ~Env closes the handle, as mdb_env_open's failure requires
  }
  // Identity and length of the file actually opened (the path may have been
  // renamed over between the stat above and the open).
  mdb_filehandle_t fd = -1;
  if (mdb_env_get_fd(e->env, &fd) != 0 || ::fstat(fd, &st) != 0) {
    error = "cannot stat the opened file";
    return nullptr;
  }
  e->id = file_id(st);
  MDB_envinfo info;
  MDB_stat ms;
  mdb_env_info(e->env, &info);
  mdb_env_stat(e->env, &ms);
  const auto needed = static_cast<off_t>((info.me_last_pgno + 1) * ms.ms_psize);
  if (st.st_size < needed) {
    error = "file is truncated (" + std::to_string(st.st_size) + " bytes, its header says " +
            std::to_string(needed) + ")";
    return nullptr;
  }
  // Walk to the first key: a damaged root or branch page shows up here, at
  // open time (config check, reopen), instead of at the first lookup.
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(e->env, nullptr, MDB_RDONLY, &txn);
  if (rc == 0) rc = mdb_dbi_open(txn, nullptr, 0, &e->dbi);
  MDB_cursor* cursor = nullptr;
  if (rc == 0) rc = mdb_cursor_open(txn, e->dbi, &cursor);
  if (rc == 0) {
    MDB_val k, v;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
    if (rc == MDB_NOTFOUND) rc = 0;  // an empty database is fine
    mdb_cursor_close(cursor);
  }
  if (txn) {
    if (rc == 0) rc = mdb_txn_commit(txn);  // keeps the dbi handle in the env
    else mdb_txn_abort(txn);
  }
  if (rc != 0) {
    error = std::string("cannot read the database: ") + mdb_strerror(rc);
    return nullptr;
  }
  return e;
}

LmdbLookup::LmdbLookup(std::string path, std::chrono::milliseconds recheck)
    : path_(std::move(path)), recheck_(recheck) {}

LmdbLookup::~LmdbLookup() = default;

void LmdbLookup::set_recheck_interval(std::chrono::milliseconds interval) {
  std::lock_guard lock(mu_);
  recheck_ = interval;
  next_check_ = std::min(next_check_, Clock::now() + interval);
}

void LmdbLookup::refresh_locked() {
  struct stat st;
  std::string error;
  if (!stat_data_file(path_, st, error)) {
    env_.reset();  // gone: defer until it is back, never answer from the old file
    error_ = std::move(error);
    return;
  }
  if (env_ && env_->id == file_id(st)) return;
  env_ = open_env(path_, error_);
}

std::shared_ptr<const LmdbLookup::Env> LmdbLookup::current(std::string& error) {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  if (now >= next_check_) {
    refresh_locked();
    next_check_ = now + recheck_;
  }
  if (!env_) error = error_;
  return env_;
}

std::optional<std::string> LmdbLookup::check_now() {
  std::lock_guard lock(mu_);
  refresh_locked();
  next_check_ = Clock::now() + recheck_;
  if (env_) return std::nullopt;
  return error_;
}

LookupResult LmdbLookup::find(std::string_view key) {
  if (key.empty()) return LookupResult::not_found();  // LMDB refuses empty keys
  std::string error;
  const std::shared_ptr<const Env> env = current(error);
  if (!env) return LookupResult::defer(std::move(error));
  if (key.size() > static_cast<std::size_t>(mdb_env_get_maxkeysize(env->env))) return LookupResult::not_found();

  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env->env, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return LookupResult::defer(std::string("cannot begin a read: ") + mdb_strerror(rc));
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{};
  rc = mdb_get(txn, env->dbi, &k, &v);
  LookupResult out;
  if (rc == 0)
    out = LookupResult::found(std::string(static_cast<const char*>(v.mv_data), v.mv_size));
  else if (rc == MDB_NOTFOUND)
    out = LookupResult::not_found();
  else
    out = LookupResult::defer(std::string("lookup failed: ") + mdb_strerror(rc));
  mdb_txn_abort(txn);
  return out;
}

}  // namespace sluice::storage
