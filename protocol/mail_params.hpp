// mail_params.hpp — ESMTP parameters of MAIL FROM and RCPT TO, parsed sans I/O.
//
// Input is PathParse::params (address.hpp): space-separated esmtp-param =
// esmtp-keyword ["=" esmtp-value] (RFC 5321 4.1.2). Keywords and the
// enumerated values are case-insensitive. Pure, linear, never throws.
// Contract: `out` is written only when the whole list is valid (check
// everything, then commit); on error it is left untouched.
//
// MAIL: SIZE (RFC 1870), BODY=7BIT|8BITMIME (RFC 6152) |BINARYMIME (RFC 3030),
//       SMTPUTF8 (RFC 6531 3.4), RET and ENVID (RFC 3461 4.3, 4.4),
//       REQUIRETLS (RFC 8689 4.1).
// RCPT: NOTIFY and ORCPT (RFC 3461 4.1, 4.2).
// A keyword whose extension is switched off in ParamOptions counts as unknown.
// Checks not done here, because they need session state: SIZE against the
// configured maximum (552 5.3.4), BINARYMIME without CHUNKING, REQUIRETLS
// outside TLS.
//
// Replies (RFC 3463; texts are ours, input is never echoed):
//   555 5.5.4  unknown or disabled keyword, or a disabled BODY value
//              (RFC 5321 4.1.1.11, 4.2.3 "parameters not recognized").
//   501 5.5.4  malformed parameter, duplicate keyword, bad value.
//   552 5.3.4  SIZE that does not fit 64 bits: larger than any maximum.
//
// Limits: SIZE 1*20DIGIT (RFC 1870 6); ENVID value at most 100 characters
// (RFC 3461 4.4); ORCPT value at most 500 characters (RFC 3461 4: the RCPT
// line grows by at most 500 for NOTIFY and ORCPT). Values must be ASCII:
// a UTF-8 ORCPT in "unitext" form (RFC 6533) is refused, its xtext form is not.
//
// Security: ENVID and ORCPT are xtext (RFC 3461 4) and may encode any byte;
// decoded values must be printable ASCII (SP..'~'), so NUL, CR and LF cannot
// smuggle themselves into DSNs or logs via "+00" or "+0D".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/reply.hpp"

namespace sluice::protocol {

struct MailParams {
  std::optional<std::uint64_t> size;  // declared size; compare with the limit
  enum class Body { none, sevenbit, eightbitmime, binarymime } body = Body::none;
  bool smtputf8 = false;
  enum class Ret { none, full, hdrs } ret = Ret::none;
  std::string envid;  // decoded
  bool requiretls = false;
};

// NOTIFY bits (RFC 3461 4.1).
inline constexpr unsigned kNotifyNever = 1, kNotifySuccess = 2, kNotifyFailure = 4,
                          kNotifyDelay = 8;

struct RcptParams {
  unsigned notify = 0;      // kNotify* bitmask; 0 when NOTIFY was absent
  std::string orcpt_type;   // addr-type, lower-cased ("rfc822"); empty when absent
  std::string orcpt_addr;   // decoded
};

struct ParamsParse {
  bool ok = false;
  Reply error;  // set when !ok
};

// Which extensions the session advertised in EHLO.
struct ParamOptions {
  bool allow_8bitmime = true, allow_binarymime = true, allow_smtputf8 = true,
       allow_dsn = true, allow_requiretls = false;
};

inline constexpr std::size_t kMaxEnvid = 100;  // RFC 3461 4.4
inline constexpr std::size_t kMaxOrcpt = 500;  // RFC 3461 4 line-length allowance

ParamsParse parse_mail_params(std::string_view params, const ParamOptions& options,
                              MailParams& out);
ParamsParse parse_rcpt_params(std::string_view params, const ParamOptions& options,
                              RcptParams& out);

}  // namespace sluice::protocol
