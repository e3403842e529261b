// dmarc_forensic_report.hpp — DMARC failure ("forensic", ruf=) reports
// (RFC 7489 7.3, in the RFC 6591 auth-failure format of RFC 5965). Sent only
// when the operator turns them on ([filters] dmarc_forensic_sender, and the
// policy control dmarc_enable_forensic for the transaction), for the
// failures the domain's fo= asks about. Text only; the connection submits
// the report into the queue as a new message.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "filters/filter.hpp"

namespace sluice::filters {

struct ForensicFacts {
  std::string reporter;         // our host name
  std::string sender;           // the report's From (dmarc_forensic_sender)
  std::string client_ip;
  std::string mail_from;        // the reported message's MAIL FROM
  std::string authentication_results;  // our A-R field (without CRLF), if any
  std::string delivery_result;  // RFC 6591 3.1: delivered, spam, policy, reject, other
  std::int64_t arrival = 0;     // unix time
  std::string message_id;       // for the report's own Message-ID
};

// Does the record's fo= ask for a report for these results? (RFC 7489 6.3)
bool forensic_report_wanted(const FilterResults& results);

// The ruf= mailto: addresses whose size limit (!10m) admits `report_size`,
// the first kMaxForensicRecipients of them (RFC 7489 6.3 lets a receiver
// limit the URIs it sends to, down to two: one failing message makes at
// most this many reports). Outside destinations still need RFC 7489 7.1's
// check (dmarc_report_destination.hpp).
constexpr std::size_t kMaxForensicRecipients = 2;
std::vector<std::string> forensic_recipients(const DmarcRecord& record, std::size_t report_size);

// The whole report message (CRLF line ends), headers and MIME body.
std::string forensic_report(const FilterResults& results, const ForensicFacts& facts,
                            const std::vector<std::string>& recipients);

}  // namespace sluice::filters
