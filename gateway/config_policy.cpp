#include "gateway/config_policy.hpp"

#include <string>

#include "filters/policy.hpp"

namespace sluice::gateway {

namespace {

bool is_word(std::string_view s) {
  if (!s.empty() && s.front() == '!') s.remove_prefix(1);
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool is_spf_word(std::string_view s) {
  if (!s.empty() && s.front() == '!') s.remove_prefix(1);
  return s == "pass" || s == "fail" || s == "softfail" || s == "neutral" || s == "none" || s == "permerror" ||
         s == "temperror";
}
bool is_dkim_word(std::string_view s) {
  if (!s.empty() && s.front() == '!') s.remove_prefix(1);
  return s == "pass" || s == "fail" || s == "policy" || s == "neutral" || s == "none" || s == "permerror" ||
         s == "temperror";
}
bool is_dmarc_word(std::string_view s) {
  if (!s.empty() && s.front() == '!') s.remove_prefix(1);
  return s == "accept" || s == "reject" || s == "quarantine" || s == "none" || s == "norecord" || s == "nofrom" ||
         s == "temperror" || s == "off";
}
bool is_policy_word(std::string_view s) {
  if (!s.empty() && s.front() == '!') s.remove_prefix(1);
  return s == "none" || s == "quarantine" || s == "reject" || s.empty();
}
bool is_control(std::string_view s) {
  return s == "dmarc_disable_verify" || s == "dmarc_enable_forensic" || s == "spf_disable" || s == "dkim_disable";
}
bool is_header_line(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (std::size_t i = 0; i < colon; ++i)
    if (s[i] <= 32 || s[i] >= 127) return false;
  for (char c : s)
    if (c == '\r' || c == '\n') return false;
  return true;
}
bool is_directory(std::string_view s) { return !s.empty() && s.front() == '/'; }

}  // namespace

void read_policy(TableReader& top, std::chrono::milliseconds recheck, std::vector<PolicyRule>& out) {
  const toml::array* arr = top.array_of_tables("policy");
  if (!arr) return;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table& t = *arr->get(i)->as_table();
    TableReader r(t, "policy[" + std::to_string(i) + "]", "[[policy]]", top.sink());
    PolicyRule p;
    p.name = "policy[" + std::to_string(i) + "]";
    r.string("name", p.name);
    r.choice("phase", {{"mail", PolicyPhase::mail}, {"rcpt", PolicyPhase::rcpt}, {"data", PolicyPhase::data}},
             p.phase);
    r.strings("spf", is_spf_word, "an SPF result (pass fail softfail neutral none permerror temperror), ! to invert",
              p.spf);
    r.strings("dkim", is_dkim_word,
              "a DKIM result (pass fail policy neutral none permerror temperror), ! to invert", p.dkim);
    r.strings("dmarc_status", is_dmarc_word,
              "a DMARC status (accept reject quarantine none norecord nofrom temperror off), ! to invert",
              p.dmarc_status);
    r.strings("dmarc_domain_policy", is_policy_word, "none, quarantine, reject or \"\", ! to invert",
              p.dmarc_domain_policy);
    bool authenticated = false;
    if (r.boolean("authenticated", authenticated)) p.authenticated = authenticated;
    p.has_hosts = r.host_list("hosts", recheck, p.hosts);
    p.has_domains = r.domain_list("domains", recheck, p.domains);
    p.has_sender_domains = r.domain_list("sender_domains", recheck, p.sender_domains);
    p.has_not_hosts = r.host_list("not_hosts", recheck, p.not_hosts);
    p.has_not_domains = r.domain_list("not_domains", recheck, p.not_domains);
    r.strings("flags", is_word, "a flag name (a-z 0-9 _), ! for not set", p.flags);
    r.choice("action",
             {{"accept", PolicyAction::accept}, {"reject", PolicyAction::reject}, {"defer", PolicyAction::defer},
              {"warn", PolicyAction::warn}},
             p.action);
    r.string("message", p.message);
    r.string("log", p.log);
    r.string("add_header", is_header_line, "a header line \"Name: value\" (no line breaks)", p.add_header);
    r.string("quarantine", is_directory, "an absolute directory path", p.quarantine);
    r.strings("set_flags", is_word, "a flag name (a-z 0-9 _)", p.set_flags);
    r.strings("control", is_control, "dmarc_disable_verify, dmarc_enable_forensic, spf_disable or dkim_disable",
              p.controls);
    r.finish();
    // Problems are reported at the key's own position.
    auto at = [&t](std::string_view key) -> const toml::node& {
      const toml::node* n = t.get(key);
      return n ? *n : static_cast<const toml::node&>(t);
    };
    for (const auto& [key, text] : {std::pair<std::string_view, const std::string*>{"message", &p.message},
                                    {"log", &p.log}, {"add_header", &p.add_header}})
      for (const auto& name : filters::unknown_policy_variables(*text))
        r.problem(at(key), key, "${" + name + "} is not a variable policy texts can use");
    if (p.phase != PolicyPhase::data && (!p.add_header.empty() || !p.quarantine.empty()))
      r.problem(at("phase"), "phase", "add_header and quarantine act on the message: they need phase = \"data\"");
    if (p.phase == PolicyPhase::mail && (p.has_domains || p.has_not_domains))
      r.problem(at("domains"), "domains", "recipient domains are not known at MAIL");
    out.push_back(std::move(p));
  }
}

}  // namespace sluice::gateway
