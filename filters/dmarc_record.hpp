// dmarc_record.hpp — the DMARC record grammar (RFC 7489 6.3, 6.4); sans-I/O.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "filters/dmarc_result.hpp"

namespace sluice::filters {

// Is this TXT record a DMARC record at all (starts with "v=DMARC1")?
bool looks_like_dmarc_record(std::string_view txt);

// nullopt (with `error`) when the record is unusable: v=DMARC1 not first, a
// missing or bad p= or a bad sp= without a usable rua= (6.6.3), a malformed
// tag-value list. With a usable rua= those make it p=none and no sp=.
// Unknown tags are ignored (6.3); bad values of other optional tags take
// their defaults.
std::optional<DmarcRecord> parse_dmarc_record(std::string_view txt, std::string& error);

}  // namespace sluice::filters
