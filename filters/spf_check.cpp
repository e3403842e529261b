#include "filters/spf_check.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "filters/spf_macro.hpp"
#include "filters/spf_record.hpp"

namespace sluice::filters {

namespace asio = boost::asio;

namespace {

bool is_v4(const gateway::IpBytes& ip) {
  return std::all_of(ip.begin(), ip.begin() + 10, [](std::uint8_t b) { return b == 0; }) && ip[10] == 0xff &&
         ip[11] == 0xff;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string without_trailing_dot(std::string s) {
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// `name` is `domain` or below it (RFC 7208 5.5), case-insensitively.
bool is_within(std::string_view name, std::string_view domain) {
  const std::string n = lower(without_trailing_dot(std::string(name)));
  const std::string d = lower(without_trailing_dot(std::string(domain)));
  return n == d || (n.size() > d.size() && n.ends_with(d) && n[n.size() - d.size() - 1] == '.');
}

bool is_failure(DnsStatus s) { return s == DnsStatus::servfail || s == DnsStatus::timeout || s == DnsStatus::error; }
bool is_void(DnsStatus s) { return s == DnsStatus::nxdomain || s == DnsStatus::nodata; }

SpfVerdict verdict_for(SpfQualifier q) {
  switch (q) {
    case SpfQualifier::pass: return SpfVerdict::pass;
    case SpfQualifier::fail: return SpfVerdict::fail;
    case SpfQualifier::softfail: return SpfVerdict::softfail;
    case SpfQualifier::neutral: return SpfVerdict::neutral;
  }
  return SpfVerdict::neutral;
}

enum class Match { no, yes, temperror, permerror };

struct HostOutcome {
  SpfVerdict verdict = SpfVerdict::none;
  std::string explanation;
};

// One evaluation: the request, the counters shared by every include and
// redirect, and what decided.
class Evaluation {
 public:
  Evaluation(Resolver& resolver, const SpfRequest& request) : resolver_(resolver), request_(request) {
    const std::size_t at = request.sender.rfind('@');
    local_part_ = at == std::string::npos ? "postmaster" : request.sender.substr(0, at);
    sender_domain_ = at == std::string::npos ? request.sender : request.sender.substr(at + 1);
    now_ = request.now != 0 ? request.now : static_cast<std::int64_t>(std::time(nullptr));
  }

  asio::awaitable<HostOutcome> check(const std::string& domain, bool want_explanation);

  int dns_terms = 0;
  int void_lookups = 0;
  std::string problem;
  std::string mechanism;

 private:
  asio::awaitable<Match> match(const SpfMechanism& m, const std::string& domain);
  asio::awaitable<Match> match_addresses(const std::string& name, const SpfMechanism& m, bool count_void);
  asio::awaitable<Match> match_mx(const std::string& target, const SpfMechanism& m);
  asio::awaitable<std::vector<std::string>> validated_names(const std::string& target, bool count_void);
  asio::awaitable<std::string> explanation(const SpfRecord& record, const std::string& domain);
  asio::awaitable<std::optional<std::string>> target_of(const std::string& spec, const std::string& domain);

  SpfMacroValues values(const std::string& domain, const std::string& validated) const {
    SpfMacroValues v;
    v.sender = request_.sender;
    v.local_part = local_part_;
    v.sender_domain = sender_domain_;
    v.domain = domain;
    v.ip = request_.ip;
    v.validated_name = validated;
    v.helo = request_.helo;
    v.receiver = request_.receiving_host;
    v.now = now_;
    return v;
  }

  // Counts a void answer; false once there are more than the limit.
  bool note_void(DnsStatus status, std::string_view name) {
    if (!is_void(status)) return true;
    if (++void_lookups <= kSpfMaxVoidLookups) return true;
    problem = "more than " + std::to_string(kSpfMaxVoidLookups) + " void lookups (at " + std::string(name) + ")";
    return false;
  }

  Resolver& resolver_;
  const SpfRequest& request_;
  std::string local_part_, sender_domain_;
  std::int64_t now_ = 0;
};

// %{p} and the ptr mechanism: names of the client's address whose own
// addresses include it (RFC 7208 5.5), at most 10 tried; DNS errors here
// just leave a name out. Names within `target` come first. Only the ptr
// mechanism's PTR lookup counts as a void lookup; %{p}'s does not (it is
// not a term, and its failure only makes the name "unknown").
asio::awaitable<std::vector<std::string>> Evaluation::validated_names(const std::string& target,
                                                                       bool count_void) {
  std::vector<std::string> out;
  const std::string reverse = reverse_name(request_.ip);
  DnsAnswer ptr = co_await resolver_.query(reverse, DnsType::PTR);
  if (!ptr.ok()) {
    if (count_void) note_void(ptr.status, reverse);
    co_return out;
  }
  const DnsType type = is_v4(request_.ip) ? DnsType::A : DnsType::AAAA;
  const std::size_t count = std::min<std::size_t>(ptr.names.size(), kSpfMaxMxOrPtrNames);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& name = ptr.names[i];
    DnsAnswer addresses = co_await resolver_.query(name, type);
    if (std::find(addresses.addresses.begin(), addresses.addresses.end(), request_.ip) != addresses.addresses.end())
      out.push_back(name);
  }
  std::stable_partition(out.begin(), out.end(), [&](const std::string& n) { return is_within(n, target); });
  co_return out;
}

// Expands a domain-spec ("" means the current domain) into a query name.
asio::awaitable<std::optional<std::string>> Evaluation::target_of(const std::string& spec, const std::string& domain) {
  if (spec.empty()) co_return domain;
  std::string validated;
  if (mentions_macro(spec, 'p')) {
    std::vector<std::string> names = co_await validated_names(domain, false);
    validated = names.empty() ? "unknown" : names.front();
  }
  const SpfMacroValues v = values(domain, validated);
  std::optional<std::string> expanded = expand_macros(spec, v, MacroUse::domain_spec);
  if (!expanded) co_return std::nullopt;
  co_return shorten_domain(without_trailing_dot(std::move(*expanded)));
}

asio::awaitable<Match> Evaluation::match_addresses(const std::string& name, const SpfMechanism& m, bool count_void) {
  const bool v4 = is_v4(request_.ip);
  DnsAnswer answer = co_await resolver_.query(name, v4 ? DnsType::A : DnsType::AAAA);
  if (is_failure(answer.status)) {
    problem = "DNS " + std::string(to_string(answer.status)) + " for " + name;
    co_return Match::temperror;
  }
  if (count_void && !note_void(answer.status, name)) co_return Match::permerror;
  for (const auto& address : answer.addresses) {
    const gateway::Network net{address, v4 ? 96 + m.cidr4 : m.cidr6};
    if (net.contains(request_.ip)) co_return Match::yes;
  }
  co_return Match::no;
}

asio::awaitable<Match> Evaluation::match_mx(const std::string& target, const SpfMechanism& m) {
  DnsAnswer mx = co_await resolver_.query(target, DnsType::MX);
  if (is_failure(mx.status)) {
    problem = "DNS " + std::string(to_string(mx.status)) + " for MX " + target;
    co_return Match::temperror;
  }
  if (!note_void(mx.status, target)) co_return Match::permerror;
  if (mx.mx.size() > static_cast<std::size_t>(kSpfMaxMxOrPtrNames)) {
    problem = "more than " + std::to_string(kSpfMaxMxOrPtrNames) + " MX records for " + target;
    co_return Match::permerror;
  }
  for (const auto& record : mx.mx) {
    if (record.exchange.empty()) continue;  // null MX (RFC 7505)
    Match found = co_await match_addresses(record.exchange, m, false);
    if (found != Match::no) co_return found;
  }
  co_return Match::no;
}

asio::awaitable<Match> Evaluation::match(const SpfMechanism& m, const std::string& domain) {
  const bool v4 = is_v4(request_.ip);
  switch (m.kind) {
    case SpfMechanismKind::all: co_return Match::yes;
    case SpfMechanismKind::ip4:
      co_return v4 && gateway::Network{m.network, 96 + m.cidr4}.contains(request_.ip) ? Match::yes : Match::no;
    case SpfMechanismKind::ip6:
      co_return !v4 && gateway::Network{m.network, m.cidr6}.contains(request_.ip) ? Match::yes : Match::no;
    default: break;
  }
  std::optional<std::string> target = co_await target_of(m.domain_spec, domain);
  if (!target) {
    problem = "macro error in " + m.text;
    co_return Match::permerror;
  }
  // A name no DNS server could hold (an empty label, a label over 63
  // octets, mostly from macros) matches nothing: no query is sent.
  if (m.kind != SpfMechanismKind::include && !has_domain_name_shape(*target, 1)) co_return Match::no;
  switch (m.kind) {
    case SpfMechanismKind::a: {
      Match found = co_await match_addresses(*target, m, true);
      co_return found;
    }
    case SpfMechanismKind::mx: {
      Match found = co_await match_mx(*target, m);
      co_return found;
    }
    case SpfMechanismKind::ptr: {
      std::vector<std::string> names = co_await validated_names(*target, true);
      if (void_lookups > kSpfMaxVoidLookups) {
        problem = "more than " + std::to_string(kSpfMaxVoidLookups) + " void lookups";
        co_return Match::permerror;
      }
      co_return !names.empty() && is_within(names.front(), *target) ? Match::yes : Match::no;
    }
    case SpfMechanismKind::exists: {
      DnsAnswer answer = co_await resolver_.query(*target, DnsType::A);
      if (is_failure(answer.status)) {
        problem = "DNS " + std::string(to_string(answer.status)) + " for " + *target;
        co_return Match::temperror;
      }
      if (!note_void(answer.status, *target)) co_return Match::permerror;
      co_return answer.ok() ? Match::yes : Match::no;
    }
    case SpfMechanismKind::include: {
      HostOutcome inner = co_await check(*target, false);
      switch (inner.verdict) {
        case SpfVerdict::pass: co_return Match::yes;
        case SpfVerdict::fail:
        case SpfVerdict::softfail:
        case SpfVerdict::neutral: co_return Match::no;
        case SpfVerdict::temperror: co_return Match::temperror;
        case SpfVerdict::none:
          // RFC 7208 5.2: an include of a domain without a record is a permerror.
          if (problem.empty()) problem = "include:" + *target + " has no SPF record";
          co_return Match::permerror;
        case SpfVerdict::permerror: co_return Match::permerror;
      }
      co_return Match::permerror;
    }
    default: co_return Match::no;
  }
}

// RFC 7208 6.2: exp= names a TXT record whose macro-expanded text explains a
// fail; anything wrong with it (no such record, several, a bad macro, a DNS
// failure) falls back to the default text, never changes the result.
asio::awaitable<std::string> Evaluation::explanation(const SpfRecord& record, const std::string& domain) {
  const SpfMacroValues v = values(domain, "unknown");
  std::optional<std::string> fallback = expand_macros(request_.default_explanation, v, MacroUse::explanation);
  std::string text = fallback.value_or(request_.default_explanation);
  if (!record.exp) co_return text;
  std::optional<std::string> target = co_await target_of(*record.exp, domain);
  if (!target || !is_checkable_domain(*target)) co_return text;
  DnsAnswer answer = co_await resolver_.query(*target, DnsType::TXT);
  if (!answer.ok() || answer.texts.size() != 1) co_return text;
  std::string validated;
  if (mentions_macro(answer.texts.front().text, 'p')) {
    std::vector<std::string> names = co_await validated_names(domain, false);
    validated = names.empty() ? "unknown" : names.front();
  }
  const SpfMacroValues with_p = values(domain, validated);
  std::optional<std::string> expanded = expand_macros(answer.texts.front().text, with_p, MacroUse::explanation);
  co_return expanded.value_or(text);
}

asio::awaitable<HostOutcome> Evaluation::check(const std::string& domain, bool want_explanation) {
  HostOutcome out;
  if (!is_checkable_domain(domain)) {
    problem = "not a domain SPF can check: " + domain;
    co_return out;  // none (RFC 7208 4.3)
  }
  DnsAnswer txt = co_await resolver_.query(domain, DnsType::TXT);
  if (is_failure(txt.status)) {
    problem = "DNS " + std::string(to_string(txt.status)) + " for TXT " + domain;
    out.verdict = SpfVerdict::temperror;
    co_return out;
  }
  std::vector<const TxtRecord*> spf;
  for (const auto& t : txt.texts)
    if (is_spf_record(t.text)) spf.push_back(&t);
  if (spf.empty()) co_return out;  // none (RFC 7208 4.5)
  if (spf.size() > 1) {
    problem = "more than one SPF record at " + domain;
    out.verdict = SpfVerdict::permerror;
    co_return out;
  }
  auto parsed = parse_spf_record(spf.front()->text);
  if (auto* bad = std::get_if<SpfSyntaxError>(&parsed)) {
    problem = "SPF record of " + domain + ": " + bad->message;
    out.verdict = SpfVerdict::permerror;
    co_return out;
  }
  const SpfRecord& record = std::get<SpfRecord>(parsed);

  for (const auto& m : record.mechanisms) {
    if (queries_dns(m.kind) && ++dns_terms > kSpfMaxDnsTerms) {
      problem = "more than " + std::to_string(kSpfMaxDnsTerms) + " DNS-querying terms (at " + m.text + ")";
      out.verdict = SpfVerdict::permerror;
      co_return out;
    }
    Match found = co_await match(m, domain);
    if (found == Match::temperror || found == Match::permerror) {
      out.verdict = found == Match::temperror ? SpfVerdict::temperror : SpfVerdict::permerror;
      mechanism = m.text;
      co_return out;
    }
    if (found == Match::yes) {
      out.verdict = verdict_for(m.qualifier);
      mechanism = m.text;
      if (out.verdict == SpfVerdict::fail && want_explanation) {
        std::string text = co_await explanation(record, domain);  // named: GCC 12 rule
        out.explanation = std::move(text);
      }
      co_return out;
    }
  }
  if (record.redirect) {
    if (++dns_terms > kSpfMaxDnsTerms) {
      problem = "more than " + std::to_string(kSpfMaxDnsTerms) + " DNS-querying terms (at redirect)";
      out.verdict = SpfVerdict::permerror;
      co_return out;
    }
    std::optional<std::string> target = co_await target_of(*record.redirect, domain);
    if (!target) {
      problem = "macro error in redirect=" + *record.redirect;
      out.verdict = SpfVerdict::permerror;
      co_return out;
    }
    // The target's own exp= applies, not ours (RFC 7208 6.2).
    HostOutcome redirected = co_await check(*target, want_explanation);
    if (redirected.verdict == SpfVerdict::none) {
      if (problem.empty()) problem = "redirect=" + *target + " has no SPF record";
      redirected.verdict = SpfVerdict::permerror;  // RFC 7208 6.1
    }
    co_return redirected;
  }
  out.verdict = SpfVerdict::neutral;  // RFC 7208 4.7
  mechanism = "default";
  co_return out;
}

SpfRequest complete_request(const SpfRequest& request) {
  if (request.sender.empty()) {
    SpfRequest r = make_helo_request(request.ip, request.helo, request.receiving_host);
    r.default_explanation = request.default_explanation;
    r.now = request.now;
    if (!request.domain.empty()) r.domain = request.domain;
    return r;
  }
  SpfRequest r = request;
  if (r.domain.empty()) {
    const std::size_t at = r.sender.rfind('@');
    r.domain = at == std::string::npos ? r.sender : r.sender.substr(at + 1);
  }
  return r;
}

}  // namespace

bool is_checkable_domain(std::string_view domain) { return has_domain_name_shape(domain, 2); }

bool has_domain_name_shape(std::string_view domain, int min_labels) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > 253) return false;
  int labels = 0;
  for (std::size_t start = 0;;) {
    const std::size_t dot = domain.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? domain.size() : dot;
    if (end == start || end - start > 63) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= min_labels;
}

asio::awaitable<SpfResult> check_host(Resolver& resolver, const SpfRequest& request) {
  // A request filled in by hand may leave the domain (or, for HELO, the
  // sender) to us: derive them as the request builders do.
  const SpfRequest effective = complete_request(request);
  SpfResult result;
  result.identity = effective.identity;
  result.domain = effective.domain;
  result.sender = effective.sender;
  Evaluation evaluation(resolver, effective);
  HostOutcome outcome = co_await evaluation.check(effective.domain, true);
  result.verdict = outcome.verdict;
  result.explanation = std::move(outcome.explanation);
  result.problem = std::move(evaluation.problem);
  result.mechanism = std::move(evaluation.mechanism);
  result.dns_terms = evaluation.dns_terms;
  result.void_lookups = evaluation.void_lookups;
  co_return result;
}

}  // namespace sluice::filters
