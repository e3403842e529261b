#include "storage/lmdb_spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "storage/map_headroom.hpp"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

// A spilled body is written out once this much has collected.
constexpr std::size_t kSpillWriteSize = 128 * 1024;

std::error_code last_error() { return {errno, std::generic_category()}; }

std::error_code write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::error_code fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  std::error_code ec;
  if (::fsync(fd) != 0) ec = last_error();
  ::close(fd);
  return ec;
}

// The spill file, shared between the writer and jobs on the pool, so an
// abandoned writer never leaves a job with a dangling reference.
struct SpillFile {
  std::string path;
  int fd = -1;
  bool committed = false;

  std::error_code ensure_open() {
    if (fd >= 0) return {};
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    return fd < 0 ? last_error() : std::error_code{};
  }
  void close_fd() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void discard() {
    close_fd();
    if (!committed) ::unlink(path.c_str());
  }
};

class LmdbMessageWriter final : public MessageWriter {
 public:
  LmdbMessageWriter(LmdbSpool& spool, std::string id) : spool_(spool), id_(std::move(id)) {}

  ~LmdbMessageWriter() override {
    if (spill_ && !spill_->committed) spool_.pool().post([s = spill_] { s->discard(); });
  }

  asio::awaitable<std::error_code> append(std::string_view bytes) override {
    if (failed_) co_return failed_;
    buffer_.append(bytes);
    if (!spill_ && buffer_.size() <= spool_.options().inline_max) co_return std::error_code{};
    if (!spill_) {
      spill_ = std::make_shared<SpillFile>();
      spill_->path = spool_.store().body_path(id_);
    }
    if (buffer_.size() >= kSpillWriteSize) {
      std::error_code ec = co_await write_out(false);
      co_return ec;
    }
    co_return std::error_code{};
  }

  asio::awaitable<std::error_code> commit(const Envelope& envelope) override {
    if (failed_) co_return failed_;
    if (spill_) {
      std::error_code ec = co_await write_out(true);
      if (ec) co_return ec;
    }
    auto record = std::make_shared<QueueRecord>();
    record->envelope = envelope;
    record->state = MessageState::queued;
    record->body = spill_ ? BodyPlace::file : BodyPlace::inline_value;
    record->updated_at = static_cast<std::int64_t>(std::time(nullptr));
    record->start_progress();
    auto body = std::make_shared<std::string>(std::move(buffer_));
    buffer_.clear();
    const std::uint64_t incoming = body->size() + to_json(*record).size();
    GroupCommitter::Apply apply = [record, body, incoming](QueueWriter& w) -> std::error_code {
      // New mail only: state changes and deletes may use the rest of the map.
      if (auto ec = check_map_headroom(w, incoming)) return ec;
      if (record->body == BodyPlace::inline_value) {
        if (auto ec = w.put_inline_body(record->envelope.id, *body)) return ec;
      }
      return w.put(*record);
    };
    std::error_code ec = co_await spool_.committer().commit(std::move(apply), spill_ != nullptr);
    if (ec) {
      failed_ = ec;
      co_return ec;
    }
    if (spill_) spill_->committed = true;
    if (spool_.on_committed()) spool_.on_committed()(id_);
    co_return std::error_code{};
  }

 private:
  // Writes the buffer to the spill file on the pool; with last, also
  // fdatasyncs and closes it.
  asio::awaitable<std::error_code> write_out(bool last) {
    auto data = std::make_shared<std::string>(std::move(buffer_));
    buffer_.clear();
    auto s = spill_;
    std::function<std::error_code()> job = [s, data, last]() -> std::error_code {
      if (auto e = s->ensure_open()) return e;
      if (auto e = write_all(s->fd, *data)) return e;
      if (!last) return {};
      if (::fdatasync(s->fd) != 0) return last_error();
      s->close_fd();
      return {};
    };
    std::error_code ec = co_await spool_.pool().run(std::move(job));
    if (ec) failed_ = ec;
    co_return ec;
  }

  LmdbSpool& spool_;
  std::string id_;
  std::string buffer_;
  std::shared_ptr<SpillFile> spill_;
  std::error_code failed_;
};

class DiscardWriter final : public MessageWriter {
 public:
  asio::awaitable<std::error_code> append(std::string_view) override { co_return std::error_code{}; }
  asio::awaitable<std::error_code> commit(const Envelope&) override { co_return std::error_code{}; }
};

class DiscardSpool final : public Spool {
 public:
  std::unique_ptr<MessageWriter> begin(const std::string&) override { return std::make_unique<DiscardWriter>(); }
  std::string_view kind() const override { return "discard"; }
  bool writable() const override { return true; }
};

SpoolRecovery recover(QueueStore& store) {
  SpoolRecovery r;
  std::set<std::string, std::less<>> file_bodies;  // named by their records
  std::set<std::string, std::less<>> unreadable;   // records we cannot read: where is the body?
  std::vector<QueueRecord> interrupted;
  store.read([&](const QueueView& v) {
    v.for_each([&](std::string_view id, std::string_view json) {
      ++r.queued;
      auto rec = queue_record_from_json(json);
      if (!rec) {
        unreadable.emplace(id);
        return true;
      }
      if (rec->body == BodyPlace::file && rec->state != MessageState::done) file_bodies.emplace(id);
      if (rec->state == MessageState::delivering) interrupted.push_back(std::move(*rec));
      return true;
    });
  });
  // A body file is an orphan (half-received) only when no record has its
  // id. A record we cannot read is still a committed message: its file, if
  // it has one, stays for whoever can read the record.
  const std::string dir = store.spool_dir() + "/bodies";
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (file_bodies.erase(name) == 0 && !unreadable.contains(name)) {
      fs::remove(e.path());
      ++r.removed_orphan_bodies;
    }
  }
  r.missing_bodies = file_bodies.size();
  r.unreadable_records.assign(unreadable.begin(), unreadable.end());
  if (!interrupted.empty()) {
    auto ec = store.write([&](QueueWriter& w) -> std::error_code {
      for (auto& rec : interrupted) {
        rec.state = MessageState::queued;
        if (auto e = w.put(rec)) return e;
      }
      return {};
    });
    if (ec) throw std::runtime_error("spool: cannot requeue interrupted deliveries: " + ec.message());
    r.requeued_delivering = interrupted.size();
  }
  return r;
}

}  // namespace

LmdbSpool::LmdbSpool(const LmdbSpoolOptions& options, BlockingPool& pool, SpoolRecovery* recovery)
    : options_(options), pool_(pool) {
  std::error_code ec;
  std::string text;
  QueueStoreOptions so;
  so.map_size = options.map_size;
  store_ = QueueStore::open(options.directory, so, ec, text);
  if (!store_) throw std::runtime_error("spool: " + text);
  if (::access((options.directory + "/bodies").c_str(), W_OK) != 0)
    throw std::runtime_error("spool: " + options.directory + "/bodies is not writable");
  auto r = recover(*store_);
  if (recovery) *recovery = r;
  const std::string bodies = options.directory + "/bodies";
  committer_ = std::make_unique<GroupCommitter>(*store_, [bodies] { return fsync_dir(bodies); });
}

LmdbSpool::~LmdbSpool() = default;

std::unique_ptr<MessageWriter> LmdbSpool::begin(const std::string& id) {
  return std::make_unique<LmdbMessageWriter>(*this, id);
}

bool LmdbSpool::writable() const { return ::access((options_.directory + "/bodies").c_str(), W_OK) == 0; }

std::unique_ptr<Spool> make_discard_spool() { return std::make_unique<DiscardSpool>(); }

}  // namespace sluice::storage
