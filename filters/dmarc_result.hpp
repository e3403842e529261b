// dmarc_result.hpp — what DMARC (RFC 7489) decided for one message, in the
// words the seeds' dmarc_status condition uses (docs/filters.md, "DMARC").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::filters {

// accept      aligned SPF or DKIM pass
// reject, quarantine  not aligned, and the domain's policy (after pct) says so
// none        not aligned, and the policy is p=none (or pct sampled it down to none)
// norecord    no DMARC record for the author domain or its organizational domain
// nofrom      no single well-formed From address to judge
// temperror   DNS could not answer
// off         DMARC did not run (switched off for this client or message)
enum class DmarcStatus { accept, reject, quarantine, none, norecord, nofrom, temperror, off };

std::string_view to_string(DmarcStatus s);

// A parsed DMARC record (RFC 7489 6.3).
struct DmarcRecord {
  std::string p;               // "none" | "quarantine" | "reject"
  std::string sp;              // "" : as p
  unsigned pct = 100;
  char adkim = 'r', aspf = 'r';  // 'r' relaxed, 's' strict
  std::vector<std::string> rua, ruf;  // URIs as written (mailto:a@b!10m)
  std::string fo = "0";        // colon list of 0 1 d s
  std::uint32_t ri = 86400;
  // p= missing or bad, or sp= bad, but rua= valid: acted on as p=none with no sp= (6.6.3)
  bool invalid_policy_fallback = false;
};

struct DmarcResult {
  DmarcStatus status = DmarcStatus::off;
  std::string status_text;     // a short sentence for logs and replies
  std::string from_domain;     // the author domain (RFC5322.From)
  std::string used_domain;     // the domain whose record applied (author or organizational)
  std::string domain_policy;   // the record's p (or sp for a subdomain): none|quarantine|reject, "" on error
  std::optional<DmarcRecord> record;
  bool spf_aligned = false;    // SPF passed for a domain aligned with the author domain
  bool dkim_aligned = false;   // a passing DKIM signature's d= is aligned
  std::string dkim_domain;     // the aligned d= when dkim_aligned
  bool sampled_out = false;    // pct < 100 and this message fell outside it
  std::string problem;         // temperror: why

  bool passed() const { return status == DmarcStatus::accept; }
};

// The RFC 8601 / RFC 7489 11.2 fragment: "dmarc=pass (p=reject dis=none)
// header.from=example.com"; "dmarc=none header.from=..." when no record;
// temperror/permerror with a reason comment.
std::string authentication_results_dmarc(const DmarcResult& r);

}  // namespace sluice::filters
