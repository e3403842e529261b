// policy.hpp — operator policy: the [[policy]] rules (gateway::PolicyRule)
// evaluated at MAIL, RCPT and the end of data against what the session and
// the filters know. Sans-I/O: the connection gathers PolicyFacts, calls
// evaluate() and does what the decision says (docs/filters.md, "Policy").
//
// Rules of a phase run in order, like an Exim ACL: `warn` does its modifiers
// and goes on; `accept` does them and ends the phase; `reject` and `defer`
// end it with a 5xx/4xx reply. No rule deciding is an accept.
#pragma once
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config.hpp"

namespace sluice::filters {

// The variables rules test and texts expand, named like Exim's:
//   sender_host_address sender_helo_name sender_address sender_address_domain
//   authenticated_id local_part domain recipients
//   spf_result dkim_result dkim_domains from_domain
//   dmarc_status dmarc_status_text dmarc_used_domain dmarc_domain_policy
// plus the flags set by earlier rules of the transaction.
struct PolicyFacts {
  std::map<std::string, std::string> vars;
  std::vector<std::string> dkim_statuses;      // one per signature ("pass", "fail", ...); empty: none
  std::vector<std::string> recipient_domains;  // data phase: every recipient's domain
  std::set<std::string> flags;

  const std::string& var(const std::string& name) const;
};

// Is `name` a variable rules may expand? (config check)
bool is_policy_variable(std::string_view name);

struct PolicyDecision {
  enum class Verdict { carry_on, accept, reject, defer };
  Verdict verdict = Verdict::carry_on;
  int code = 0;              // reject/defer
  std::string enhanced;
  std::string text;
  std::string rule;          // the rule that decided
  std::vector<std::string> add_headers;  // "Name: value" (no CRLF)
  std::string quarantine;    // a directory, when a quarantine rule fired
  std::vector<std::string> log_lines;    // expanded `log` texts, with their rule names
  std::set<std::string> controls;
};

// Evaluates the rules of `phase`; flags set by `set_flags` go into facts.flags.
PolicyDecision evaluate_policy(const std::vector<gateway::PolicyRule>& rules, gateway::PolicyPhase phase,
                               PolicyFacts& facts);

// ${name} expansion; values made safe for a reply or a header (printable
// ASCII, everything else '?'). Unknown names expand to "".
std::string expand_policy_text(std::string_view text, const PolicyFacts& facts);

// The ${...} names in `text` that are not variables (config check).
std::vector<std::string> unknown_policy_variables(std::string_view text);

}  // namespace sluice::filters
