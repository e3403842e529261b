// map_headroom.hpp — new mail stops short of a full queue map.
//
// LMDB is copy-on-write: recording a delivery, purging a finished message,
// even deleting one, first needs free pages, and the pages a transaction
// frees can be reused only two commits later. A map that new mail has filled
// to its last page lets nothing leave: every state change fails with
// MDB_MAP_FULL, and only a restart with a larger map gets the queue moving.
// So a new message is refused when it would take the map above
// kMapHighWater of spool.map_size (452 4.3.1 after DATA, as for a full
// disk); the rest is kept for the queue runner, its sweep and `sluice queue`.
// The share must leave room for the largest state change: a record of
// limits.max_recipients recipients, some 20 KB at the default 100.
// docs/storage.md, "Full disk, full map".
#pragma once
#include <cstdint>
#include <system_error>

#include "storage/queue_store.hpp"

namespace sluice::storage {

inline constexpr double kMapHighWater = 0.9;
// Below this share of data pages (QueueWriter::data_bytes) the free pages
// are so many that runs long enough for any value are taken for granted,
// and LMDB's free list is not read: a queue that once filled the file and
// drained since costs a few mdb_stat calls per commit, not a walk of the
// free list.
inline constexpr double kMapPlenty = 0.5;

// No error while `incoming` more bytes keep the map at or below the mark
// (QueueWriter::map_in_use: free pages LMDB could not give a large value do
// not count as room); otherwise an error that compares equal to
// std::errc::no_space_on_device and says why.
std::error_code check_map_headroom(const QueueWriter& w, std::uint64_t incoming);

}  // namespace sluice::storage
