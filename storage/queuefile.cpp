#include "storage/queuefile.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string_view>
#include <vector>

#include "storage/exim_header_file.hpp"
#include "storage/exim_message_converter.hpp"
#include "storage/message_id.hpp"

namespace sluice::storage {
namespace {

constexpr int kMaxTries = 3;

std::error_code last_error() { return {errno, std::generic_category()}; }

std::error_code write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// RFC 3461 section 4 xtext, as ENVID and ORCPT travel on the wire and as
// Exim stores them. (protocol/xtext.hpp has the same encoder; storage/ does
// not depend on protocol/, and this is six lines.)
std::string xtext(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      out += '+';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// ORCPT is "addr-type;address": only the address part is xtext.
std::string orcpt_on_wire(const std::string& orcpt) {
  const std::size_t semi = orcpt.find(';');
  if (semi == std::string::npos) return xtext(orcpt);
  return orcpt.substr(0, semi + 1) + xtext(std::string_view(orcpt).substr(semi + 1));
}

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

struct Originator {
  std::string login;
  long long uid, gid;
};

Originator originator_of(const QueuefileOptions& o) {
  Originator r{o.originator_login, o.originator_uid, o.originator_gid};
  if (r.uid < 0) r.uid = static_cast<long long>(::geteuid());
  if (r.gid < 0) r.gid = static_cast<long long>(::getegid());
  if (r.login.empty()) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(4096);
    if (::getpwuid_r(static_cast<uid_t>(r.uid), &pw, buf.data(), buf.size(), &found) == 0 && found)
      r.login = found->pw_name;
    else
      r.login = std::to_string(r.uid);
  }
  return r;
}

// XCLIENT NAME may carry these instead of a name (Postfix's convention).
bool is_real_host_name(const std::string& name) {
  return !name.empty() && name != "[UNAVAILABLE]" && name != "[TEMPUNAVAIL]" && name != "unknown";
}

EximHeaderPreamble preamble_for(const std::string& id, const QueuefileOptions& options, const Envelope& e,
                                std::span<const EnvelopeRecipient> recipients, const QueuefileFacts& facts,
                                const EximMessageCounts& counts) {
  const Originator who = originator_of(options);
  EximHeaderPreamble p;
  p.id = id;
  p.originator_login = who.login;
  p.originator_uid = who.uid;
  p.originator_gid = who.gid;
  p.sender = e.sender;
  p.received_at = e.received_at;
  p.received_usec = facts.received_usec;
  p.helo_name = e.helo;
  p.host_address = e.client_addr;
  p.host_port = e.client_port;
  if (is_real_host_name(e.client_name)) p.host_name = e.client_name;
  p.interface_address = facts.interface_address;
  p.interface_port = facts.interface_port;
  p.received_protocol = lower_ascii(e.protocol);
  p.body_linecount = counts.body_lines;
  p.max_received_linelength = counts.max_line_length;
  p.body_zerocount = counts.body_zeros;
  p.auth_id = e.login;
  p.tls_cipher = facts.tls_cipher;
  p.smtputf8 = e.smtputf8;
  if (!e.envid.empty()) p.dsn_envid = xtext(e.envid);
  p.dsn_ret = e.ret == "FULL" ? 1 : e.ret == "HDRS" ? 2 : 0;
  for (const auto& r : recipients)
    p.recipients.push_back({r.address, r.orcpt.empty() ? std::string{} : orcpt_on_wire(r.orcpt),
                            exim_dsn_flags(r.notify)});
  return p;
}

// Renames without ever replacing: EEXIST when `to` exists. Falls back to
// link()+unlink() where the file system lacks RENAME_NOREPLACE (EINVAL).
std::error_code rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno != EINVAL) return last_error();
  if (::link(from.c_str(), to.c_str()) != 0) return last_error();
  ::unlink(from.c_str());
  return {};
}

std::error_code fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  std::error_code ec;
  if (::fsync(fd) != 0 && errno != EINVAL) ec = last_error();  // EINVAL: fs cannot (some NFS)
  ::close(fd);
  return ec;
}

// ".<id>-D.tmp", ".<id>-H.tmp": the names a pair is written under before
// its renames. Readers ignore them (a dot first, no -D/-H at the end).
constexpr std::string_view kTempPrefix = ".";
constexpr std::string_view kTempSuffix = ".tmp";

std::string temp_name(const std::string& id, char kind) {
  return std::string(kTempPrefix) + id + '-' + kind + std::string(kTempSuffix);
}

// Is `name` temp_name(id, 'D' or 'H') for a valid id of either format?
bool is_our_temp_name(std::string_view name) {
  if (!name.starts_with(kTempPrefix) || !name.ends_with(kTempSuffix)) return false;
  name.remove_prefix(kTempPrefix.size());
  name.remove_suffix(kTempSuffix.size());
  if (!name.ends_with("-D") && !name.ends_with("-H")) return false;
  name.remove_suffix(2);
  return is_valid_exim_id(name, EximIdFormat::v4_97) || is_valid_exim_id(name, EximIdFormat::v4_96);
}

// A file being written: removed on destruction unless released.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (created_ && !released_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  std::error_code create(const QueuefileOptions& o) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) return last_error();  // EEXIST: someone else's file, never unlinked
    created_ = true;
    if ((o.owner_uid >= 0 || o.owner_gid >= 0) &&
        ::fchown(fd_, static_cast<uid_t>(o.owner_uid), static_cast<gid_t>(o.owner_gid)) != 0)
      return last_error();
    if (::fchmod(fd_, o.file_mode) != 0) return last_error();
    return {};
  }
  std::error_code write(std::string_view data) { return write_all(fd_, data); }
  std::error_code sync_and_close() {
    std::error_code ec;
    if (::fsync(fd_) != 0) ec = last_error();
    if (::close(fd_) != 0 && !ec) ec = last_error();
    fd_ = -1;
    return ec;
  }
  const std::string& path() const { return path_; }
  void release() { released_ = true; }

 private:
  std::string path_;
  int fd_ = -1;
  bool created_ = false;   // only a file this object created is ever removed
  bool released_ = false;
};

// One try under one id. EEXIST from the -D rename means "id taken, try another".
std::error_code write_pair(const std::string& id, const QueuefileOptions& options, const Envelope& envelope,
                           std::span<const EnvelopeRecipient> recipients, const MessageSource& message,
                           const QueuefileFacts& facts) {
  const std::string base = options.directory + "/";
  TempFile data(base + temp_name(id, 'D'));
  TempFile header(base + temp_name(id, 'H'));
  const std::string data_final = base + id + "-D";
  const std::string header_final = base + id + "-H";

  if (auto ec = data.create(options)) return ec;
  if (auto ec = data.write(id + "-D\n")) return ec;
  ChunkSink to_data = [&data](std::string_view body) { return data.write(body); };
  EximMessageConverter converter(to_data);
  ChunkSink to_converter = [&converter](std::string_view chunk) { return converter.feed(chunk); };
  if (auto ec = message(to_converter)) return ec;
  if (auto ec = converter.finish()) return ec;
  if (auto ec = data.sync_and_close()) return ec;

  std::string h = format_exim_header_preamble(
      preamble_for(id, options, envelope, recipients, facts, converter.counts()));
  h += converter.header_records();
  if (auto ec = header.create(options)) return ec;
  if (auto ec = header.write(h)) return ec;
  if (auto ec = header.sync_and_close()) return ec;

  if (auto ec = rename_no_replace(data.path(), data_final)) return ec;
  data.release();
  if (auto ec = rename_no_replace(header.path(), header_final)) {
    ::unlink(data_final.c_str());
    return ec;
  }
  header.release();
  if (auto ec = fsync_dir(options.directory)) {
    // Not known to be durable: take it back (-H first, so no reader sees a
    // -H without its -D) and let the caller try again.
    ::unlink(header_final.c_str());
    ::unlink(data_final.c_str());
    return ec;
  }
  return {};
}

std::string first_id(const QueuefileOptions& options, const Envelope& envelope) {
  if (options.id_format == EximIdFormat::v4_96) return make_exim_496_id();
  if (is_valid_exim_id(envelope.id, EximIdFormat::v4_97)) return envelope.id;
  return make_message_id();
}

std::string another_id(const QueuefileOptions& options) {
  return options.id_format == EximIdFormat::v4_96 ? make_exim_496_id() : make_message_id();
}

}  // namespace

std::vector<std::string> remove_interrupted_exports(const std::string& directory,
                                                    std::filesystem::file_time_type started, std::error_code& ec) {
  std::vector<std::string> removed;
  ec.clear();
  std::filesystem::directory_iterator it(directory, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_our_temp_name(name)) continue;
    // Only regular files: a directory or a link of that name is not ours.
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || it->is_symlink(type_ec)) continue;
    const auto written = it->last_write_time(type_ec);
    if (type_ec || written >= started) continue;  // being written now: maybe another gateway's
    if (::unlink(it->path().c_str()) == 0) removed.push_back(name);
  }
  return removed;
}

QueuefileResult write_queuefile(const QueuefileOptions& options, const Envelope& envelope,
                                std::span<const EnvelopeRecipient> recipients, const MessageSource& message,
                                const QueuefileFacts& facts) {
  if (recipients.empty()) return {std::make_error_code(std::errc::invalid_argument), {}};
  std::string id = first_id(options, envelope);
  for (int attempt = 1;; ++attempt) {
    std::error_code ec = write_pair(id, options, envelope, recipients, message, facts);
    if (!ec) return {{}, id};
    if (ec != std::errc::file_exists || attempt == kMaxTries) return {ec, {}};
    id = another_id(options);
  }
}

}  // namespace sluice::storage
