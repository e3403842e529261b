// file_spool.hpp — the first durable spool: one file pair per message.
//
// Layout under the spool directory:
//   tmp/<id>.eml.tmp, tmp/<id>.json.tmp   being written (never visible)
//   queue/<id>.eml                        message data, as stored (CRLF lines)
//   queue/<id>.json                       envelope (storage/envelope.hpp)
// Commit order: data written and fsync'd, envelope written and fsync'd, data
// renamed into queue/, envelope renamed into queue/, queue/ fsync'd. The
// envelope's presence in queue/ is the commit point: at start-up tmp/ is
// emptied and any queue/*.eml without its .json is a half-commit and removed.
// All file work runs on the BlockingPool, never on an event-loop thread.
// Simple and slow-ish (two fsyncs per message): the group-commit LMDB spool
// replaces it (see the storage issue); the interface stays.
#pragma once
#include <memory>
#include <string>

#include "storage/blocking_pool.hpp"
#include "storage/spool.hpp"

namespace sluice::storage {

struct FileSpoolRecovery {
  unsigned removed_temporary = 0;
  unsigned removed_half_committed = 0;
  unsigned queued = 0;
};

// Creates the directories and recovers (see above). Throws std::runtime_error
// naming the path when the directory cannot be made or written: start-up only.
std::unique_ptr<Spool> make_file_spool(const std::string& directory, BlockingPool& pool,
                                       FileSpoolRecovery* recovery = nullptr);

// Says 250 for data it throws away. For benchmarks of the protocol path only.
std::unique_ptr<Spool> make_discard_spool();

}  // namespace sluice::storage
