// The policy engine (filters/policy.hpp) and its [[policy]] config: Exim's
// list semantics, actions and modifiers, text expansion, config errors, and
// every seed example (tests/policy/seed_examples.toml) firing when it should.
#include "filters/policy.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gateway/config_loader.hpp"

namespace sluice::filters {
namespace {

using Verdict = PolicyDecision::Verdict;
using gateway::PolicyPhase;

gateway::ConfigPtr load(const std::string& text, std::string* problems = nullptr) {
  auto r = gateway::load_config_text(text, "test.toml");
  if (problems)
    for (const auto& p : r.problems) *problems += p.to_string() + "\n";
  return r.config;
}

std::string seed_file() {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) + "/tests/policy/seed_examples.toml");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

PolicyFacts data_facts(std::string dmarc_status, std::string policy = "reject") {
  PolicyFacts f;
  f.vars = {{"sender_host_address", "198.51.100.7"}, {"sender_address", "a@sender.example"},
            {"sender_address_domain", "sender.example"}, {"dmarc_status", dmarc_status},
            {"dmarc_used_domain", "sender.example"}, {"dmarc_domain_policy", policy}, {"spf_result", "pass"}};
  f.recipient_domains = {"example.test"};
  return f;
}

TEST(PolicySeeds, TheFileLoads) {
  std::string problems;
  auto cfg = load(seed_file(), &problems);
  ASSERT_TRUE(cfg) << problems;
  EXPECT_EQ(cfg->policy.size(), 10u);
}

TEST(PolicySeeds, RcptRulesSetControlsAndFlags) {
  auto cfg = load(seed_file());
  ASSERT_TRUE(cfg);
  PolicyFacts own;
  own.vars = {{"sender_host_address", "192.0.2.10"}, {"domain", "example.test"}};
  auto d = evaluate_policy(cfg->policy, PolicyPhase::rcpt, own);
  EXPECT_TRUE(d.controls.count("dmarc_disable_verify"));
  EXPECT_TRUE(d.controls.count("dmarc_enable_forensic"));
  EXPECT_EQ(d.verdict, Verdict::carry_on);

  PolicyFacts stranger;
  stranger.vars = {{"sender_host_address", "198.51.100.7"}, {"domain", "example.test"}};
  d = evaluate_policy(cfg->policy, PolicyPhase::rcpt, stranger);
  EXPECT_FALSE(d.controls.count("dmarc_disable_verify"));  // not one of our hosts

  PolicyFacts broken;
  broken.vars = {{"sender_host_address", "198.51.100.7"}, {"domain", "broken-dmarc.example"}};
  d = evaluate_policy(cfg->policy, PolicyPhase::rcpt, broken);
  EXPECT_FALSE(d.controls.count("dmarc_enable_forensic"));

  PolicyFacts list;
  list.vars = {{"sender_host_address", "198.51.100.7"}, {"domain", "lists.example.test"}};
  evaluate_policy(cfg->policy, PolicyPhase::rcpt, list);
  EXPECT_TRUE(list.flags.count("mailing_list"));
}

TEST(PolicySeeds, DataRules) {
  auto cfg = load(seed_file());
  ASSERT_TRUE(cfg);
  // accept: logged by the first debug rule only.
  auto f = data_facts("accept");
  auto d = evaluate_policy(cfg->policy, PolicyPhase::data, f);
  EXPECT_EQ(d.verdict, Verdict::carry_on);
  ASSERT_EQ(d.log_lines.size(), 1u);
  EXPECT_EQ(d.log_lines[0], "dmarc-debug-ok: DMARC DEBUG: accept sender.example");
  // quarantine: the second debug line, and the quarantine directory.
  f = data_facts("quarantine", "quarantine");
  d = evaluate_policy(cfg->policy, PolicyPhase::data, f);
  EXPECT_EQ(d.verdict, Verdict::carry_on);
  ASSERT_EQ(d.log_lines.size(), 1u);
  EXPECT_EQ(d.log_lines[0], "dmarc-debug-not-accept: DMARC DEBUG: 'quarantine' for sender.example");
  EXPECT_EQ(d.quarantine, "/var/spool/sluice/quarantine");
  // reject: refused with the seed's text.
  f = data_facts("reject");
  d = evaluate_policy(cfg->policy, PolicyPhase::data, f);
  EXPECT_EQ(d.verdict, Verdict::reject);
  EXPECT_EQ(d.code, 550);
  EXPECT_EQ(d.enhanced, "5.7.1");
  EXPECT_EQ(d.text, "Message from sender.example failed sender's DMARC policy, REJECT");
  EXPECT_EQ(d.rule, "dmarc-reject");
  // ... unless the client authenticated.
  f = data_facts("reject");
  f.vars["authenticated_id"] = "alice";
  EXPECT_EQ(evaluate_policy(cfg->policy, PolicyPhase::data, f).verdict, Verdict::carry_on);
  // A p=reject domain writing to a mailing list: refused even when DMARC passed.
  f = data_facts("accept", "reject");
  f.flags.insert("mailing_list");
  d = evaluate_policy(cfg->policy, PolicyPhase::data, f);
  EXPECT_EQ(d.verdict, Verdict::reject);
  EXPECT_EQ(d.text, "Messages from sender.example break mailing lists");
  // SPF fail, and AOL's neutral-means-fail.
  f = data_facts("none", "none");
  f.vars["spf_result"] = "fail";
  d = evaluate_policy(cfg->policy, PolicyPhase::data, f);
  EXPECT_EQ(d.text, "198.51.100.7 is not allowed to send mail from sender.example");
  f = data_facts("none", "none");
  f.vars["spf_result"] = "neutral";
  EXPECT_EQ(evaluate_policy(cfg->policy, PolicyPhase::data, f).verdict, Verdict::carry_on);
  f.vars["sender_address_domain"] = "aol.com";
  d = evaluate_policy(cfg->policy, PolicyPhase::data, f);
  EXPECT_EQ(d.verdict, Verdict::reject);
  EXPECT_EQ(d.text, "AOL sender, but not from AOL-approved relay.");
}

TEST(Policy, ListSemanticsAndOrder) {
  auto cfg = load(R"(
[[policy]]
dmarc_status = ["!accept"]
action = "warn"
set_flags = ["suspect"]
[[policy]]
flags = ["suspect", "!trusted"]
action = "defer"
message = "later, ${sender_host_address}"
[[policy]]
action = "reject"
)");
  ASSERT_TRUE(cfg);
  auto f = data_facts("accept");
  EXPECT_EQ(evaluate_policy(cfg->policy, PolicyPhase::data, f).verdict, Verdict::reject);  // falls to the last
  f = data_facts("none");
  auto d = evaluate_policy(cfg->policy, PolicyPhase::data, f);
  EXPECT_EQ(d.verdict, Verdict::defer);
  EXPECT_EQ(d.code, 451);
  EXPECT_EQ(d.text, "later, 198.51.100.7");
  f = data_facts("none");
  f.flags.insert("trusted");
  EXPECT_EQ(evaluate_policy(cfg->policy, PolicyPhase::data, f).verdict, Verdict::reject);
  // Rules of another phase never run.
  f = data_facts("none");
  EXPECT_EQ(evaluate_policy(cfg->policy, PolicyPhase::rcpt, f).verdict, Verdict::carry_on);
}

TEST(Policy, TextsAreMadeSafe) {
  PolicyFacts f;
  f.vars["dmarc_used_domain"] = "evil\r\nX-Injected: yes";
  EXPECT_EQ(expand_policy_text("from ${dmarc_used_domain}", f), "from evil??X-Injected: yes");
  EXPECT_EQ(expand_policy_text("${nope} and ${", f), " and ${");
}

TEST(Policy, ConfigErrorsNameTheKey) {
  std::string problems;
  EXPECT_FALSE(load("[[policy]]\nphase = \"rcpt\"\ndmarc_status = [\"maybe\"]\nmessage = \"${whatever}\"\n"
                    "add_header = \"X-A: b\"\nbogus = 1\n",
                    &problems));
  EXPECT_NE(problems.find("test.toml:3:"), std::string::npos) << problems;  // dmarc_status word
  EXPECT_NE(problems.find("${whatever} is not a variable"), std::string::npos) << problems;
  EXPECT_NE(problems.find("need phase = \"data\""), std::string::npos) << problems;
  EXPECT_NE(problems.find("bogus"), std::string::npos) << problems;
}

}  // namespace
}  // namespace sluice::filters
