// policy_hooks.cpp — where the connection asks the operator's policy
// (filters/policy.hpp): after an accepted MAIL, after each accepted RCPT,
// and at the end of data once the filters have spoken. A refusal replaces
// the 250 (and undoes the MAIL or the recipient); controls switch filters
// off for the transaction; flags carry from rule to rule.
#include "filters/filter_chain.hpp"
#include "gateway/log.hpp"
#include "protocol/connection.hpp"

namespace sluice::protocol {

namespace {

std::string domain_part(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

}  // namespace

filters::PolicyFacts Connection::policy_facts() const {
  filters::PolicyFacts f;
  f.vars["sender_host_address"] = session_.client.addr;
  f.vars["sender_helo_name"] = session_.helo;
  const std::string sender = tx_.null_sender ? std::string() : tx_.sender.str();
  f.vars["sender_address"] = sender;
  f.vars["sender_address_domain"] = domain_part(sender);
  f.vars["authenticated_id"] = session_.login;
  std::string rcpts;
  for (const auto& r : tx_.recipients) {
    rcpts += (rcpts.empty() ? "" : ":") + r.mailbox.str();
    f.recipient_domains.push_back(r.mailbox.domain);
  }
  f.vars["recipients"] = rcpts;
  if (!tx_.recipients.empty()) {
    f.vars["local_part"] = tx_.recipients.back().mailbox.local_part;
    f.vars["domain"] = tx_.recipients.back().mailbox.domain;
  }
  f.flags = policy_flags_;
  if (filters_) {
    const filters::FilterResults& r = filters_->results();
    if (r.spf) f.vars["spf_result"] = std::string(filters::to_string(r.spf->verdict));
    std::string best, domains;
    for (const auto& d : r.dkim) {
      f.dkim_statuses.emplace_back(filters::to_string(d.status));
      if (d.passed()) domains += (domains.empty() ? "" : ":") + d.domain;
      if (best.empty() || d.passed()) best = std::string(filters::to_string(d.status));
    }
    f.vars["dkim_result"] = r.dkim_ran ? (best.empty() ? std::string("none") : best) : std::string();
    f.vars["dkim_domains"] = domains;
    f.vars["from_domain"] = r.from.domain;
    if (r.dmarc) {
      f.vars["dmarc_status"] = std::string(filters::to_string(r.dmarc->status));
      f.vars["dmarc_status_text"] = r.dmarc->status_text;
      f.vars["dmarc_used_domain"] = r.dmarc->used_domain;
      f.vars["dmarc_domain_policy"] = r.dmarc->domain_policy;
    }
  }
  if (!f.vars.count("dmarc_status")) f.vars["dmarc_status"] = "off";
  return f;
}

void Connection::log_policy(const filters::PolicyDecision& d, std::string_view phase) const {
  for (const auto& line : d.log_lines)
    gateway::log_info("policy").field("conn", session_.id).field("id", tx_.id).field("phase", phase).field("log", line);
}

void Connection::apply_policy_after_command(Step& step, bool was_active, std::size_t recipients_before) {
  if (cfg_.policy.empty()) return;
  if (!was_active && tx_.active) {  // MAIL accepted: a new transaction
    policy_flags_.clear();
    policy_controls_.clear();
  }
  gateway::PolicyPhase phase;
  if (!was_active && tx_.active) phase = gateway::PolicyPhase::mail;
  else if (tx_.active && tx_.recipients.size() > recipients_before) phase = gateway::PolicyPhase::rcpt;
  else return;
  filters::PolicyFacts facts = policy_facts();
  const filters::PolicyDecision d = filters::evaluate_policy(cfg_.policy, phase, facts);
  policy_flags_ = facts.flags;
  const std::string_view phase_name = phase == gateway::PolicyPhase::mail ? "mail" : "rcpt";
  log_policy(d, phase_name);
  for (const auto& c : d.controls) {
    policy_controls_.insert(c);
    if (!filters_) continue;
    if (c == "dmarc_disable_verify") filters_->disable("dmarc");
    if (c == "spf_disable") filters_->disable("spf");
    if (c == "dkim_disable") filters_->disable("dkim");
  }
  if (d.verdict != filters::PolicyDecision::Verdict::reject && d.verdict != filters::PolicyDecision::Verdict::defer)
    return;
  if (phase == gateway::PolicyPhase::rcpt) {
    tx_.recipients.pop_back();  // this recipient is refused; the others stay
  } else {
    tx_.reset();
    if (filters_) filters_->reset();
  }
  step.reply = Reply(d.code, d.enhanced, d.text);
  gateway::log_info("policy_refused").field("conn", session_.id).field("phase", phase_name).field("rule", d.rule)
      .field("code", d.code);
}

Reply Connection::apply_policy_at_data(std::string& added_headers, std::string& quarantine) {
  if (cfg_.policy.empty()) return {};
  filters::PolicyFacts facts = policy_facts();
  const filters::PolicyDecision d = filters::evaluate_policy(cfg_.policy, gateway::PolicyPhase::data, facts);
  log_policy(d, "data");
  if (d.verdict == filters::PolicyDecision::Verdict::reject || d.verdict == filters::PolicyDecision::Verdict::defer) {
    gateway::log_info("policy_refused").field("conn", session_.id).field("id", tx_.id).field("phase", "data")
        .field("rule", d.rule).field("code", d.code);
    return Reply(d.code, d.enhanced, d.text);
  }
  // Policy headers go above ours, like Exim's add_header = :at_start:.
  std::string mine;
  for (const auto& h : d.add_headers) mine += h + "\r\n";
  added_headers = mine + added_headers;
  quarantine = d.quarantine;
  if (!quarantine.empty())
    gateway::log_info("policy_quarantine").field("conn", session_.id).field("id", tx_.id)
        .field("directory", quarantine);
  return {};
}

}  // namespace sluice::protocol
