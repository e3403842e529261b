#include "filters/policy.hpp"

#include <algorithm>
#include <array>

namespace sluice::filters {

namespace {

constexpr std::array<std::string_view, 17> kVariables = {
    "sender_host_address", "sender_helo_name", "sender_address", "sender_address_domain", "authenticated_id",
    "local_part",          "domain",           "recipients",     "spf_result",            "dkim_result",
    "dkim_domains",        "from_domain",      "dmarc_status",   "dmarc_status_text",     "dmarc_used_domain",
    "dmarc_domain_policy", "policy_name"};

// Exim's word lists: true when any item matches; "!w" matches all but w.
bool words_match(const std::vector<std::string>& items, std::string_view value) {
  for (const auto& item : items) {
    const bool negated = !item.empty() && item.front() == '!';
    const std::string_view word = negated ? std::string_view(item).substr(1) : std::string_view(item);
    if ((word == value) != negated) return true;
  }
  return false;
}

std::string safe(std::string_view v) {
  std::string o;
  o.reserve(v.size());
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    o += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  return o;
}

bool holds(const gateway::PolicyRule& r, gateway::PolicyPhase phase, const PolicyFacts& f) {
  if (!r.spf.empty() && !words_match(r.spf, f.var("spf_result"))) return false;
  if (!r.dkim.empty()) {
    bool any = false;
    if (f.dkim_statuses.empty()) any = words_match(r.dkim, "none");
    for (const auto& s : f.dkim_statuses) any = any || words_match(r.dkim, s);
    if (!any) return false;
  }
  if (!r.dmarc_status.empty() && !words_match(r.dmarc_status, f.var("dmarc_status"))) return false;
  if (!r.dmarc_domain_policy.empty() && !words_match(r.dmarc_domain_policy, f.var("dmarc_domain_policy")))
    return false;
  if (r.authenticated && *r.authenticated != !f.var("authenticated_id").empty()) return false;
  // A lookup that cannot answer (defer) does not match: a rule never fires on a missing file.
  if (r.has_hosts && !r.hosts.match(f.var("sender_host_address")).yes()) return false;
  if (r.has_sender_domains && r.sender_domains.match(f.var("sender_address_domain")) != gateway::ListMatch::yes)
    return false;
  // Recipient domains: the one being added at RCPT, any of them at DATA.
  auto any_recipient_in = [&](const gateway::DomainList& list) {
    if (phase == gateway::PolicyPhase::rcpt) return list.match(f.var("domain")) == gateway::ListMatch::yes;
    for (const auto& d : f.recipient_domains)
      if (list.match(d) == gateway::ListMatch::yes) return true;
    return false;
  };
  if (r.has_domains && !any_recipient_in(r.domains)) return false;
  if (r.has_not_domains && any_recipient_in(r.not_domains)) return false;
  if (r.has_not_hosts && !r.not_hosts.match(f.var("sender_host_address")).no()) return false;
  for (const auto& flag : r.flags) {
    const bool negated = !flag.empty() && flag.front() == '!';
    const std::string name = negated ? flag.substr(1) : flag;
    if (f.flags.count(name) == static_cast<std::size_t>(negated)) return false;
  }
  return true;
}

}  // namespace

const std::string& PolicyFacts::var(const std::string& name) const {
  static const std::string empty;
  auto it = vars.find(name);
  return it == vars.end() ? empty : it->second;
}

bool is_policy_variable(std::string_view name) {
  return std::find(kVariables.begin(), kVariables.end(), name) != kVariables.end();
}

std::string expand_policy_text(std::string_view text, const PolicyFacts& facts) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      const auto end = text.find('}', i + 2);
      if (end != std::string_view::npos) {
        out += safe(facts.var(std::string(text.substr(i + 2, end - i - 2))));
        i = end;
        continue;
      }
    }
    out += text[i];
  }
  return safe(out);
}

std::vector<std::string> unknown_policy_variables(std::string_view text) {
  std::vector<std::string> unknown;
  for (std::size_t i = 0; (i = text.find("${", i)) != std::string_view::npos;) {
    const auto end = text.find('}', i + 2);
    if (end == std::string_view::npos) {
      unknown.emplace_back(text.substr(i));
      break;
    }
    const std::string_view name = text.substr(i + 2, end - i - 2);
    if (!is_policy_variable(name)) unknown.emplace_back(name);
    i = end + 1;
  }
  return unknown;
}

PolicyDecision evaluate_policy(const std::vector<gateway::PolicyRule>& rules, gateway::PolicyPhase phase,
                               PolicyFacts& facts) {
  PolicyDecision d;
  for (const auto& r : rules) {
    if (r.phase != phase || !holds(r, phase, facts)) continue;
    facts.vars["policy_name"] = r.name;
    for (const auto& f : r.set_flags) facts.flags.insert(f);
    for (const auto& c : r.controls) d.controls.insert(c);
    if (!r.log.empty()) d.log_lines.push_back(r.name + ": " + expand_policy_text(r.log, facts));
    if (!r.add_header.empty()) d.add_headers.push_back(expand_policy_text(r.add_header, facts));
    if (!r.quarantine.empty()) d.quarantine = r.quarantine;
    switch (r.action) {
      case gateway::PolicyAction::warn: continue;
      case gateway::PolicyAction::accept:
        d.verdict = PolicyDecision::Verdict::accept;
        d.rule = r.name;
        return d;
      case gateway::PolicyAction::reject:
      case gateway::PolicyAction::defer: {
        const bool reject = r.action == gateway::PolicyAction::reject;
        d.verdict = reject ? PolicyDecision::Verdict::reject : PolicyDecision::Verdict::defer;
        d.code = reject ? 550 : 451;
        d.enhanced = reject ? "5.7.1" : "4.7.1";
        d.text = r.message.empty() ? (reject ? "Message refused by policy" : "Message deferred by policy, try again later")
                                   : expand_policy_text(r.message, facts);
        d.rule = r.name;
        return d;
      }
    }
  }
  return d;
}

}  // namespace sluice::filters
