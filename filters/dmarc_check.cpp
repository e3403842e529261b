#include "filters/dmarc_check.hpp"

#include "filters/authentication_results_value.hpp"
#include "filters/dmarc_record.hpp"
#include "filters/public_suffix.hpp"

namespace sluice::filters {

namespace {

std::string lowered(std::string_view s) {
  std::string o;
  for (char c : s) o += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (!o.empty() && o.back() == '.') o.pop_back();
  return o;
}

enum class Lookup { found, none, temperror };

struct Discovery {
  Lookup outcome = Lookup::none;
  std::optional<DmarcRecord> record;
  std::string problem;
};

// One level of 6.6.3: the DMARC records at _dmarc.<domain>. Several, or one
// that does not parse, end discovery with no policy (`none`, found=false) —
// the caller must not go on to the organizational domain then, so that is
// reported as `found` with no record.
boost::asio::awaitable<Discovery> discover_at(Resolver& resolver, const std::string& domain) {
  Discovery d;
  const std::string name = "_dmarc." + domain;
  DnsAnswer answer = co_await resolver.query(name, DnsType::TXT);
  if (answer.status == DnsStatus::nxdomain || answer.status == DnsStatus::nodata) co_return d;
  if (!answer.ok()) {
    d.outcome = Lookup::temperror;
    d.problem = name + ": " + std::string(to_string(answer.status)) + (answer.error.empty() ? "" : " " + answer.error);
    co_return d;
  }
  std::vector<const TxtRecord*> dmarc;
  for (const auto& t : answer.texts)
    if (looks_like_dmarc_record(t.text)) dmarc.push_back(&t);
  if (dmarc.empty()) co_return d;
  d.outcome = Lookup::found;
  if (dmarc.size() > 1) {
    d.problem = name + ": more than one DMARC record";
    co_return d;
  }
  std::string error;
  d.record = parse_dmarc_record(dmarc.front()->text, error);
  if (!d.record) d.problem = name + ": " + error;
  co_return d;
}

std::string lower_policy(const std::string& p) {
  if (p == "reject") return "quarantine";
  if (p == "quarantine") return "none";
  return "none";
}

}  // namespace

bool dmarc_aligned(const PublicSuffixList& psl, std::string_view author_domain, std::string_view other,
                   bool strict) {
  const std::string a = lowered(author_domain), b = lowered(other);
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  if (strict) return false;
  return psl.organizational_domain(a) == psl.organizational_domain(b);
}

boost::asio::awaitable<DmarcResult> check_dmarc(Resolver& resolver, const PublicSuffixList& psl,
                                                const DmarcRequest& request) {
  DmarcResult r;
  if (request.from.state != FromHeaderFacts::State::ok) {
    r.status = DmarcStatus::nofrom;
    r.status_text = "no single From address to judge (" + std::string(to_string(request.from.state)) + ")";
    co_return r;
  }
  r.from_domain = lowered(request.from.domain);
  const std::string org = psl.organizational_domain(r.from_domain);

  Discovery found = co_await discover_at(resolver, r.from_domain);
  r.used_domain = r.from_domain;
  if (found.outcome == Lookup::none && org != r.from_domain) {
    found = co_await discover_at(resolver, org);
    r.used_domain = org;
  }
  if (found.outcome == Lookup::temperror) {
    r.status = DmarcStatus::temperror;
    r.problem = found.problem;
    r.status_text = "DNS error looking up the DMARC record: " + found.problem;
    co_return r;
  }
  if (!found.record) {
    r.status = DmarcStatus::norecord;
    r.status_text = found.problem.empty() ? "no DMARC record for " + r.from_domain : found.problem;
    if (found.problem.empty()) r.used_domain.clear();
    co_return r;
  }
  r.record = std::move(found.record);
  const DmarcRecord& rec = *r.record;
  const bool from_org_level = r.used_domain != r.from_domain;
  r.domain_policy = (from_org_level && !rec.sp.empty()) ? rec.sp : rec.p;

  for (const auto& d : request.dkim) {
    if (!d.pass) continue;
    if (dmarc_aligned(psl, r.from_domain, d.domain, rec.adkim == 's')) {
      r.dkim_aligned = true;
      r.dkim_domain = lowered(d.domain);
      break;
    }
  }
  r.spf_aligned = request.spf == SpfVerdict::pass &&
                  dmarc_aligned(psl, r.from_domain, request.spf_domain, rec.aspf == 's');

  if (r.spf_aligned || r.dkim_aligned) {
    r.status = DmarcStatus::accept;
    r.status_text = std::string("aligned ") + (r.dkim_aligned ? "DKIM (d=" + r.dkim_domain + ")" : "SPF") +
                    " pass for " + r.from_domain;
    co_return r;
  }
  std::string disposition = r.domain_policy;
  if (request.sample >= rec.pct) {
    // 6.6.4: outside the sample, the next less severe policy applies.
    r.sampled_out = true;
    disposition = lower_policy(disposition);
  }
  r.status = disposition == "reject" ? DmarcStatus::reject
             : disposition == "quarantine" ? DmarcStatus::quarantine
                                           : DmarcStatus::none;
  r.status_text = "no aligned SPF or DKIM pass for " + r.from_domain + "; policy " + r.domain_policy +
                  (r.sampled_out ? " (outside pct=" + std::to_string(rec.pct) + ", applying " + disposition + ")" : "");
  co_return r;
}

std::string_view to_string(DmarcStatus s) {
  switch (s) {
    case DmarcStatus::accept: return "accept";
    case DmarcStatus::reject: return "reject";
    case DmarcStatus::quarantine: return "quarantine";
    case DmarcStatus::none: return "none";
    case DmarcStatus::norecord: return "norecord";
    case DmarcStatus::nofrom: return "nofrom";
    case DmarcStatus::temperror: return "temperror";
    case DmarcStatus::off: return "off";
  }
  return "off";
}

std::string authentication_results_dmarc(const DmarcResult& r) {
  const std::string from =
      r.from_domain.empty() ? std::string() : " header.from=" + authentication_results_value(r.from_domain);
  switch (r.status) {
    case DmarcStatus::accept:
    case DmarcStatus::reject:
    case DmarcStatus::quarantine:
    case DmarcStatus::none: {
      const std::string dis = r.status == DmarcStatus::accept ? "none" : std::string(to_string(r.status));
      return std::string("dmarc=") + (r.passed() ? "pass" : "fail") + " (p=" + r.domain_policy + " dis=" + dis + ")" +
             from;
    }
    case DmarcStatus::norecord: return "dmarc=none" + from;
    case DmarcStatus::nofrom: return "dmarc=permerror (no single From address)";
    case DmarcStatus::temperror: return "dmarc=temperror" + from;
    case DmarcStatus::off: return "";
  }
  return "";
}

}  // namespace sluice::filters
