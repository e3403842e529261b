// message_id.hpp — queue ids unique across workers and restarts, sortable by
// time, shaped like Exim 4.97+ ids ("tttttt-iiiiiiiiiii-ssss", base 62, 23
// characters; see ../shared/specs/exim-spool-format.md).
//
//   tttttt       seconds since the epoch
//   iiiiiiiiiii  a per-process instance tag: 40 random bits drawn at start and
//                the pid, so two processes (or one restarted in the same
//                second, as pid 1 in a container always is) never share it
//   ssss         a per-process counter, so ids from one process sort in the
//                order they were made within a second
// Thread-safe; no lock (one atomic counter).
#pragma once
#include <string>

namespace sluice::storage {

std::string make_message_id();
// The base-62 digits both id shapes use (storage/exim_id.cpp too): v as
// exactly `width` digits, most significant first.
void put_base62(std::string& out, unsigned long long v, int width);
bool is_base62(char c);
bool is_valid_message_id(std::string_view id);

}  // namespace sluice::storage
