// spf_header.hpp — how an SPF result is written into a message: the
// Received-SPF header field (RFC 7208 9.1) and the "spf=" part of an
// Authentication-Results header (RFC 8601 2.7.2, RFC 7208 9.2). Pure text;
// the filter chain decides whether and where to add them.
//
// Security: every value comes from the client (sender, HELO) or from DNS
// (the problem text quotes records): control characters and non-ASCII are
// replaced by '?', quotes and backslashes escaped, so a value can neither end
// the header nor forge another key. Received-SPF values may be dot-atoms
// (RFC 7208 9.1); Authentication-Results values must be MIME tokens or
// quoted (RFC 8601 2.2, filters/authentication_results_value.hpp).
#pragma once
#include <string>

#include "filters/spf_result.hpp"

namespace sluice::filters {

// "Received-SPF: pass (mx.example.org: domain of a@example.com designates
// 192.0.2.1 as permitted sender) client-ip=192.0.2.1;
// envelope-from="a@example.com"; helo=client.example.com;
// receiver=mx.example.org; identity=mailfrom; mechanism="ip4:192.0.2.0/24""
// — one unfolded line without CRLF; the writer folds it.
std::string received_spf_header(const SpfResult& result, const SpfRequest& request);

// "spf=pass smtp.mailfrom=a@example.com" or "spf=none smtp.helo=client.example.com";
// a reason comment follows for errors: "spf=permerror (too many DNS lookups) smtp.mailfrom=…".
std::string authentication_results_spf(const SpfResult& result);

}  // namespace sluice::filters
