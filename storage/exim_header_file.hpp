// exim_header_file.hpp — the envelope part of an Exim "-H" spool file: the
// lines before the header records (../shared/specs/exim-spool-format.md
// section 3). Pure formatting, no I/O; storage/queuefile.cpp fills it in.
//
// Values are written as given except that CR, LF and NUL, which would break
// the line structure, become spaces (Exim does the same to recipients).
// Network-supplied values (HELO, client address and name, login) are written
// with Exim's "--" taint mark, as Exim 4.96 itself writes them; older Exims
// (before 4.93) ignore such lines.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::storage {

struct EximRecipient {
  std::string address;
  std::string orcpt;          // as on the wire: "rfc822;" + xtext, or ""
  unsigned dsn_flags = 0;     // Exim's bits: 0x02 NEVER 0x04 SUCCESS 0x08 FAILURE 0x10 DELAY
};

struct EximHeaderPreamble {
  std::string id;
  std::string originator_login;
  long long originator_uid = 0;
  long long originator_gid = 0;
  std::string sender;                       // "" for <>
  std::int64_t received_at = 0;             // unix seconds
  std::optional<std::uint32_t> received_usec;
  std::string helo_name;
  std::string host_address;                 // "" when unknown (then no port either)
  std::uint16_t host_port = 0;
  std::string host_name;
  std::string interface_address;
  std::uint16_t interface_port = 0;
  std::string received_protocol;
  std::uint64_t body_linecount = 0;
  std::uint64_t max_received_linelength = 0;
  std::uint64_t body_zerocount = 0;
  std::string auth_id;
  std::string tls_cipher;
  bool smtputf8 = false;
  std::string dsn_envid;                    // xtext, as on the wire
  int dsn_ret = 0;                          // 1 FULL, 2 HDRS, 0 none
  std::vector<EximRecipient> recipients;
};

// Everything from "<id>-H" to the blank line that precedes the header
// records, that blank line included.
std::string format_exim_header_preamble(const EximHeaderPreamble& p);

// Exim's DSN flag bits from RFC 3461 NOTIFY bits as Sluice keeps them
// (never=1 success=2 failure=4 delay=8, storage/envelope.hpp).
unsigned exim_dsn_flags(unsigned sluice_notify);

}  // namespace sluice::storage
