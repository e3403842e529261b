// authentication_results_value.hpp — one value of an Authentication-Results
// field written so that RFC 8601 2.2's grammar holds whatever it contains:
//   pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]
//   value  = token / quoted-string            (RFC 2045 5.1)
// A token has no space, control or tspecial ( ) < > @ , ; : \ " / [ ] ? =,
// so an RFC 5322 dot-atom such as "a=b/c.example" is not one: it is quoted.
// Every A-R writer (SPF, DKIM, DMARC, the authserv-id) goes through here.
//
// Security: values come from the client (HELO, MAIL FROM, From) or from
// DNS. Control characters and non-ASCII become '?' (then quoted: '?' is a
// tspecial), quotes and backslashes are escaped, so a value can neither end
// the header field nor forge another property.
#pragma once
#include <string>
#include <string_view>

namespace sluice::filters {

// Control characters and non-ASCII as '?': what any header value we write
// from client or DNS text goes through first (Received-SPF too).
std::string printable(std::string_view s);

// A token as it is, anything else as a quoted-string. Domain names are
// tokens, so "mx.example.com" stays bare and "a=b/c.example" is quoted.
std::string authentication_results_value(std::string_view raw);

// local-part@domain bare when the domain is a domain name (RFC 6376 3.5:
// letter-digit-hyphen labels, at least two) and the local part a dot-atom
// that is also a token; otherwise quoted. The grammar would allow any
// dot-atom local part bare ("a=b@example.com"), but quoting is always valid
// and a bare '=' or '/' in a value invites misparsing by readers.
std::string authentication_results_address(std::string_view raw);

}  // namespace sluice::filters
