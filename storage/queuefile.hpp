// queuefile.hpp — exports one message as an Exim spool pair (<id>-D and
// <id>-H) into a directory: an Exim's input/ directory, or the incoming
// queue of a scanner that reads Exim's format (MailScanner), like Exim's
// own "queuefile" transport. Format: ../shared/specs/exim-spool-format.md;
// design and operations: docs/storage.md, "Queuefile export".
//
// BLOCKING: write_queuefile() writes, fsyncs and renames files. It runs on a
// blocking-pool thread (storage::BlockingPool), never on an event loop:
//
//   std::function<std::error_code()> job = [&] {
//     result = write_queuefile(options, envelope, recipients, source);
//     return result.error; };
//   std::error_code ec = co_await pool.run(std::move(job));
//
// Atomicity: both files are written under names a reader ignores
// (".<id>-D.tmp", ".<id>-H.tmp"), fsync'd, then renamed: -D first, -H last,
// since a reader (Exim's queue runner, MailScanner) takes the -H file as the
// message's existence; then the directory is fsync'd. Renames never replace
// an existing file (RENAME_NOREPLACE): if the id is taken, the export starts
// again under a fresh id (at most three tries). Any error removes every file
// this call made and is returned: ENOSPC, EDQUOT, EIO, EACCES... A crash
// leaves the temporary files: remove_interrupted_exports() below. Memory: the
// body goes through in 64 KiB pieces; the header block is held, up to 1 MiB
// (std::errc::message_size beyond, as Exim's own header_maxsize).
#pragma once
#include <filesystem>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "storage/envelope.hpp"
#include "storage/exim_id.hpp"
#include "storage/message_source.hpp"

namespace sluice::storage {

struct QueuefileOptions {
  std::string directory;                          // must exist; written into directly
  EximIdFormat id_format = EximIdFormat::v4_97;   // config: exim_id_format = "4.97" | "4.96"
  // The "<login> <uid> <gid>" line of -H. Empty login: this process's
  // effective user (its name, uid and gid).
  std::string originator_login;
  long long originator_uid = -1;
  long long originator_gid = -1;
  // Owner of the files; -1 leaves them as created (needs root to change).
  long long owner_uid = -1;
  long long owner_gid = -1;
  unsigned file_mode = 0640;                      // Exim's SPOOL_MODE
};

// What the envelope does not carry; all optional.
struct QueuefileFacts {
  std::string interface_address;   // the local address the message came in on
  std::uint16_t interface_port = 0;
  std::optional<std::uint32_t> received_usec;
  std::string tls_cipher;
};

struct QueuefileResult {
  std::error_code error;
  std::string exim_id;   // the id of the pair written (empty on error)
};

// `message`: the stored message, CRLF line ends, starting with Sluice's
// Received: header. `recipients`: those this copy is for (a subset of the
// envelope's). The 4.97 format keeps envelope.id when it is a valid id and
// free in the directory; the 4.96 format always makes a 16-character id.
QueuefileResult write_queuefile(const QueuefileOptions& options, const Envelope& envelope,
                                std::span<const EnvelopeRecipient> recipients, const MessageSource& message,
                                const QueuefileFacts& facts = {});

// Removes what exports cut short by a crash left in `directory`: regular
// files named ".<id>-D.tmp" or ".<id>-H.tmp" with <id> a valid Exim id of
// either format, exactly the names write_queuefile() writes under, and
// nothing else (Exim's and a scanner's own files never match), last written
// before `started`. An export in progress has such files too: call this
// before the first export into a directory in this process, on the thread
// that exports, with the time the process started; another gateway's export
// into the same directory writes its files after that. Returns the names
// removed; ec says when the directory could not be read.
std::vector<std::string> remove_interrupted_exports(const std::string& directory,
                                                    std::filesystem::file_time_type started, std::error_code& ec);

}  // namespace sluice::storage
