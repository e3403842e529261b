// authentication_results.hpp — the one Authentication-Results field (RFC 8601)
// we put on a message, and the Received-SPF field beside it (RFC 7208 9.1),
// made from the chain's results. Header text only; no I/O.
#pragma once
#include <string>
#include <string_view>

#include "filters/filter.hpp"

namespace sluice::filters {

// "Authentication-Results: mx.example.net;\r\n\tspf=pass smtp.mailfrom=...;\r\n
// \tdkim=pass header.d=...\r\n" — one method result per line; "none" when
// no filter ran (RFC 8601 2.2). Ends with CRLF.
std::string authentication_results_header(std::string_view authserv_id, const FilterResults& results);

// The Received-SPF field with CRLF, or "" when SPF did not run.
std::string received_spf_field(const FilterResults& results);

}  // namespace sluice::filters
