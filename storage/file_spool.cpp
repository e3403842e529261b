#include "storage/file_spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

// Above this, buffered data goes to disk before more is accepted.
constexpr std::size_t kFlushThreshold = 128 * 1024;

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

std::error_code write_file_synced(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return last_error();
  std::error_code ec = write_all(fd, data);
  if (!ec && ::fdatasync(fd) != 0) ec = last_error();
  ::close(fd);
  return ec;
}

// State shared between the session's writer and jobs on the pool: the job
// holds a shared_ptr, so an abandoned writer never leaves a job with a
// dangling reference.
struct FileState {
  std::string data_tmp, env_tmp, data_final, env_final, queue_dir;
  int fd = -1;
  bool committed = false;

  std::error_code ensure_open() {
    if (fd >= 0) return {};
    fd = ::open(data_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    return fd < 0 ? last_error() : std::error_code{};
  }
  void discard() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (!committed) {
      ::unlink(data_tmp.c_str());
      ::unlink(env_tmp.c_str());
    }
  }
};

class FileMessageWriter final : public MessageWriter {
 public:
  FileMessageWriter(BlockingPool& pool, std::shared_ptr<FileState> st) : pool_(pool), st_(std::move(st)) {}

  ~FileMessageWriter() override {
    if (!st_->committed) pool_.post([st = st_] { st->discard(); });
  }

  asio::awaitable<std::error_code> append(std::string_view bytes) override {
    if (failed_) co_return failed_;
    buffer_.append(bytes);
    if (buffer_.size() >= kFlushThreshold) {
      std::error_code ec = co_await flush();
      co_return ec;
    }
    co_return std::error_code{};
  }

  asio::awaitable<std::error_code> commit(const Envelope& envelope) override {
    if (failed_) co_return failed_;
    std::string env = to_json(envelope);
    std::string data = std::move(buffer_);
    buffer_.clear();
    auto st = st_;
    std::function<std::error_code()> job = [st, &data, &env]() -> std::error_code {
      if (auto e = st->ensure_open()) return e;
      if (auto e = write_all(st->fd, data)) return e;
      if (::fdatasync(st->fd) != 0) return last_error();
      ::close(st->fd);
      st->fd = -1;
      if (auto e = write_file_synced(st->env_tmp, env)) return e;
      if (::rename(st->data_tmp.c_str(), st->data_final.c_str()) != 0) return last_error();
      if (::rename(st->env_tmp.c_str(), st->env_final.c_str()) != 0) {
        auto e = last_error();
        ::unlink(st->data_final.c_str());
        return e;
      }
      st->committed = true;
      return fsync_dir(st->queue_dir);
    };
    std::error_code ec = co_await pool_.run(std::move(job));
    if (ec) failed_ = ec;
    co_return ec;
  }

 private:
  asio::awaitable<std::error_code> flush() {
    std::string data = std::move(buffer_);
    buffer_.clear();
    auto st = st_;
    std::function<std::error_code()> job = [st, &data]() -> std::error_code {
      if (auto e = st->ensure_open()) return e;
      return write_all(st->fd, data);
    };
    std::error_code ec = co_await pool_.run(std::move(job));
    if (ec) failed_ = ec;
    co_return ec;
  }

  BlockingPool& pool_;
  std::shared_ptr<FileState> st_;
  std::string buffer_;
  std::error_code failed_;
};

class FileSpool final : public Spool {
 public:
  FileSpool(std::string dir, BlockingPool& pool) : dir_(std::move(dir)), pool_(pool) {}

  std::unique_ptr<MessageWriter> begin(const std::string& id) override {
    auto st = std::make_shared<FileState>();
    st->data_tmp = dir_ + "/tmp/" + id + ".eml.tmp";
    st->env_tmp = dir_ + "/tmp/" + id + ".json.tmp";
    st->data_final = dir_ + "/queue/" + id + ".eml";
    st->env_final = dir_ + "/queue/" + id + ".json";
    st->queue_dir = dir_ + "/queue";
    return std::make_unique<FileMessageWriter>(pool_, std::move(st));
  }
  std::string_view kind() const override { return "file"; }
  bool writable() const override { return ::access((dir_ + "/tmp").c_str(), W_OK) == 0; }

 private:
  std::string dir_;
  BlockingPool& pool_;
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

FileSpoolRecovery recover(const std::string& dir) {
  FileSpoolRecovery r;
  for (const auto& e : fs::directory_iterator(dir + "/tmp")) {
    fs::remove(e.path());
    ++r.removed_temporary;
  }
  for (const auto& e : fs::directory_iterator(dir + "/queue")) {
    const auto& p = e.path();
    if (p.extension() == ".eml") {
      auto env = p;
      env.replace_extension(".json");
      if (!fs::exists(env)) {
        fs::remove(p);
        ++r.removed_half_committed;
      } else {
        ++r.queued;
      }
    }
  }
  return r;
}

}  // namespace

std::unique_ptr<Spool> make_file_spool(const std::string& directory, BlockingPool& pool,
                                       FileSpoolRecovery* recovery) {
  std::error_code ec;
  for (const char* sub : {"/tmp", "/queue"}) {
    fs::create_directories(directory + sub, ec);
    if (ec) throw std::runtime_error("spool: cannot create " + directory + sub + ": " + ec.message());
    if (::access((directory + sub).c_str(), W_OK) != 0)
      throw std::runtime_error("spool: " + directory + sub + " is not writable");
  }
  auto r = recover(directory);
  if (recovery) *recovery = r;
  return std::make_unique<FileSpool>(directory, pool);
}

std::unique_ptr<Spool> make_discard_spool() { return std::make_unique<DiscardSpool>(); }

}  // namespace sluice::storage
