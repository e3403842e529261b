// lmdb_error.hpp — LMDB return codes as std::error_code.
//
// Errno values LMDB passes through (ENOSPC, EIO, ...) become generic_category
// codes; LMDB's own codes get lmdb_category(), whose MDB_MAP_FULL compares
// equal to std::errc::no_space_on_device, so "the spool is full" is one test
// for the session whether the disk or the map ran out (both: 452 4.3.1).
// LMDB turns a short write (the disk filled mid-commit) into EIO; QueueStore::write
// gives ENOSPC instead when the filesystem is nearly full (storage/queue_store.cpp).
#pragma once
#include <system_error>

namespace sluice::storage {

const std::error_category& lmdb_category();
std::error_code lmdb_error(int rc);

}  // namespace sluice::storage
