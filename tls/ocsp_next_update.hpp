// ocsp_next_update.hpp — the nextUpdate time of a DER OCSP response
// (RFC 6960 4.2.1), found by a byte scan rather than a full decode.
//
// Why a scan: wolfSSL's decoder refuses a response that is already past its
// nextUpdate, so when it says no we cannot ask it which time it saw. The
// scan lets the log say "stale" (and when) instead of "not a response".
// Pure and wolfSSL-free, so a fuzz target can reach it with arbitrary bytes
// (an operator or a cron job supplies the file; tests/fuzz/).
#pragma once
#include <ctime>
#include <span>

namespace sluice::tls {

// The first nextUpdate in `der` as seconds since the epoch, or 0 when there
// is none: no "A0 11 18 0F" (nextUpdate [0] EXPLICIT GeneralizedTime of 15
// octets), fewer than 15 octets after it, or octets that are not a
// "YYYYMMDDHHMMSSZ" time.
std::time_t scan_next_update(std::span<const unsigned char> der);

}  // namespace sluice::tls
