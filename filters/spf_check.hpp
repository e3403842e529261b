// spf_check.hpp — the SPF check_host() function (RFC 7208 4), as a coroutine
// over the worker's Resolver: every DNS question is an awaited
// Resolver::query(), so a check never blocks the event loop.
//
// Limits (RFC 7208 4.6.4): at most 10 DNS-querying terms (include, a, mx,
// ptr, exists, redirect) over the whole evaluation, includes and redirects
// included; at most 2 void lookups (NXDOMAIN or no records); an mx with more
// than 10 MX records is a permerror; ptr and %{p} validate at most 10 names.
// The exp= lookup counts toward neither. DNS failures (SERVFAIL, timeout)
// are temperror, except where RFC 7208 5.5 says a failed PTR lookup is just
// no match. The deadline for the whole check belongs to the caller (the
// filter chain): cancel the coroutine, or race it against a timer.
//
// Thread: runs on the resolver's io_context. The request must outlive the
// coroutine.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "filters/resolver.hpp"
#include "filters/spf_result.hpp"

namespace sluice::filters {

inline constexpr int kSpfMaxDnsTerms = 10;
inline constexpr int kSpfMaxVoidLookups = 2;
inline constexpr int kSpfMaxMxOrPtrNames = 10;

boost::asio::awaitable<SpfResult> check_host(Resolver& resolver, const SpfRequest& request);

// RFC 7208 4.3: a domain SPF can check — labels of 1..63 octets, at least
// two of them, at most 253 octets (a trailing dot is allowed).
bool is_checkable_domain(std::string_view domain);

// Labels of 1..63 octets, at least `min_labels` of them, at most 253 octets.
bool has_domain_name_shape(std::string_view domain, int min_labels);

}  // namespace sluice::filters
