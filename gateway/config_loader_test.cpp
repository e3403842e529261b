#include "gateway/config_loader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gateway/config_values.hpp"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;

ConfigLoad load(std::string_view text) { return load_config_text(text, "test.toml"); }

std::string all_problems(const ConfigLoad& l) {
  std::string out;
  for (const auto& p : l.problems) out += p.to_string() + "\n";
  return out;
}

// The config of a load that must succeed (a copy: the load is often a temporary).
Config ok(const ConfigLoad& l) {
  EXPECT_TRUE(l.problems.empty()) << all_problems(l);
  if (!l.config) {
    ADD_FAILURE() << "no config";
    return Config{};
  }
  return *l.config;
}

// The single problem of a load that must fail with exactly one.
ConfigProblem one_problem(const ConfigLoad& l) {
  EXPECT_EQ(l.config, nullptr);
  EXPECT_EQ(l.problems.size(), 1u) << all_problems(l);
  return l.problems.empty() ? ConfigProblem{} : l.problems.front();
}

bool mentions(const ConfigProblem& p, std::string_view text) {
  return p.message.find(text) != std::string::npos;
}

std::string independent_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

void expect_networks(const NetworkList& got, std::vector<std::string> want) {
  EXPECT_EQ(got.entries(), want);
}
void expect_networks(const HostList& got, std::vector<std::string> want) {
  EXPECT_EQ(got.entries(), want);
}

// Field by field, so that a failure names the field.
void expect_same_except_hostname(const Config& got, const Config& want) {
  EXPECT_EQ(got.workers, want.workers);
  EXPECT_EQ(got.log.format, want.log.format);
  EXPECT_EQ(got.log.level, want.log.level);
  ASSERT_EQ(got.listeners.size(), want.listeners.size());
  for (std::size_t i = 0; i < got.listeners.size(); ++i) {
    EXPECT_EQ(got.listeners[i].name, want.listeners[i].name);
    EXPECT_EQ(got.listeners[i].address, want.listeners[i].address);
    EXPECT_EQ(got.listeners[i].port, want.listeners[i].port);
    EXPECT_EQ(got.listeners[i].proxy_protocol, want.listeners[i].proxy_protocol);
    EXPECT_EQ(got.listeners[i].proxy_trusted.entries(), want.listeners[i].proxy_trusted.entries());
  }
  const auto &gl = got.limits, &wl = want.limits;
  EXPECT_EQ(gl.max_connections, wl.max_connections);
  EXPECT_EQ(gl.max_connections_per_ip, wl.max_connections_per_ip);
  EXPECT_EQ(gl.max_message_size, wl.max_message_size);
  EXPECT_EQ(gl.max_recipients, wl.max_recipients);
  EXPECT_EQ(gl.max_bad_commands, wl.max_bad_commands);
  EXPECT_EQ(gl.max_junk_commands, wl.max_junk_commands);
  EXPECT_EQ(gl.command_line_max, wl.command_line_max);
  EXPECT_EQ(gl.text_line_max, wl.text_line_max);
  EXPECT_EQ(gl.max_pipelined_bytes, wl.max_pipelined_bytes);
  const auto &gt = got.timeouts, &wt = want.timeouts;
  EXPECT_EQ(gt.greeting, wt.greeting);
  EXPECT_EQ(gt.command, wt.command);
  EXPECT_EQ(gt.data_init, wt.data_init);
  EXPECT_EQ(gt.data_block, wt.data_block);
  EXPECT_EQ(gt.data_end, wt.data_end);
  EXPECT_EQ(gt.max_session, wt.max_session);
  EXPECT_EQ(gt.drain, wt.drain);
  EXPECT_EQ(gt.write, wt.write);
  const auto &gs = got.smtp, &ws = want.smtp;
  EXPECT_EQ(gs.banner_text, ws.banner_text);
  EXPECT_EQ(gs.pipelining, ws.pipelining);
  EXPECT_EQ(gs.chunking, ws.chunking);
  EXPECT_EQ(gs.eight_bit_mime, ws.eight_bit_mime);
  EXPECT_EQ(gs.smtputf8, ws.smtputf8);
  EXPECT_EQ(gs.dsn, ws.dsn);
  EXPECT_EQ(gs.pipeconnect_keyword, ws.pipeconnect_keyword);
  EXPECT_EQ(gs.pipeconnect_hosts.entries(), ws.pipeconnect_hosts.entries());
  EXPECT_EQ(gs.xclient_hosts.entries(), ws.xclient_hosts.entries());
  EXPECT_EQ(gs.xclient_require_port, ws.xclient_require_port);
  EXPECT_EQ(gs.bare_line_ending, ws.bare_line_ending);
  EXPECT_EQ(gs.local_domains.entries(), ws.local_domains.entries());
  EXPECT_EQ(gs.relay_domains.entries(), ws.relay_domains.entries());
  EXPECT_EQ(gs.trusted_networks.entries(), ws.trusted_networks.entries());
  EXPECT_EQ(got.spool.kind, want.spool.kind);
  EXPECT_EQ(got.spool.directory, want.spool.directory);
  EXPECT_EQ(got.spool.io_threads, want.spool.io_threads);
  EXPECT_EQ(got.lookups.recheck_interval, want.lookups.recheck_interval);
  EXPECT_EQ(got.metrics.enabled, want.metrics.enabled);
  EXPECT_EQ(got.metrics.address, want.metrics.address);
  EXPECT_EQ(got.metrics.port, want.metrics.port);
  for (std::size_t i = 0; i < got.listeners.size() && i < want.listeners.size(); ++i)
    EXPECT_EQ(got.listeners[i].tls, want.listeners[i].tls);
  const TlsConfig &gtls = got.tls, &wtls = want.tls;
  EXPECT_EQ(gtls.certificates.size(), wtls.certificates.size());
  EXPECT_EQ(gtls.min_version, wtls.min_version);
  EXPECT_EQ(gtls.ciphers, wtls.ciphers);
  EXPECT_EQ(gtls.handshake_timeout, wtls.handshake_timeout);
  EXPECT_EQ(gtls.max_handshakes_per_worker, wtls.max_handshakes_per_worker);
  EXPECT_EQ(gtls.session_tickets, wtls.session_tickets);
  EXPECT_EQ(gtls.ticket_key_rotation, wtls.ticket_key_rotation);
  EXPECT_EQ(gtls.ticket_lifetime, wtls.ticket_lifetime);
  EXPECT_EQ(gtls.ticket_key_file, wtls.ticket_key_file);
  EXPECT_EQ(gtls.reload_check_interval, wtls.reload_check_interval);
  EXPECT_EQ(gtls.log_protocol_details, wtls.log_protocol_details);
  EXPECT_EQ(gtls.rsa_signing, wtls.rsa_signing);
  EXPECT_EQ(gtls.ecdsa_signing, wtls.ecdsa_signing);
}

// ------------------------------------------------------------- defaults

TEST(ConfigDefaults, EmbeddedDefaultGivesTheDefaultsOfConfigHpp) {
  const ConfigLoad l = load_config_text(embedded_default_config(), "<embedded default>");
  const Config& c = ok(l);
  expect_same_except_hostname(c, Config{});
  EXPECT_EQ(c.source, "<embedded default>");
}

TEST(ConfigDefaults, EmptyFileGivesTheDefaultsToo) {
  expect_same_except_hostname(ok(load("")), Config{});
}

TEST(ConfigDefaults, HostnameDefaultsToTheMachineName) {
  const std::string machine = independent_hostname();
  const std::string want = is_domain_name(machine) ? machine : "localhost";
  EXPECT_EQ(ok(load("")).smtp.hostname, want);
  EXPECT_EQ(ok(load_config_text(embedded_default_config(), "d")).smtp.hostname, want);
  EXPECT_EQ(ok(load("[smtp]\nhostname = \"mx.example.org\"\n")).smtp.hostname, "mx.example.org");
}

// ------------------------------------------------------------- every key

constexpr std::string_view kEveryKey = R"(
workers = 3
[log]
format = "json"
level = "debug"
[[listener]]
name = "inbound"
address = "0.0.0.0"
port = 25
[[listener]]
name = "behind-haproxy"
address = "::1"
port = 10025
proxy_protocol = true
proxy_trusted = ["10.1.0.0/16", "fd00::/8"]
[limits]
max_connections = 5000
max_connections_per_ip = 7
max_message_size = 10485760
max_recipients = 50
max_bad_commands = 0
max_junk_commands = 7
command_line_max = 2048
text_line_max = 4096
max_pipelined_bytes = 32768
[timeouts]
greeting = 10
command = "2m"
data_init = "90s"
data_block = "1h"
data_end = 45
max_session = "2h"
drain = "5s"
write = "20s"
[smtp]
hostname = "MX1.Example.org"
banner_text = "ESMTP ready"
pipelining = false
chunking = false
eight_bit_mime = false
smtputf8 = false
dsn = false
pipeconnect_keyword = "X_PIPE_CONNECT"
pipeconnect_hosts = ["192.0.2.0/24"]
xclient_hosts = ["127.0.0.1", "2001:db8::/32"]
xclient_require_port = true
bare_line_ending = "normalize"
local_domains = ["Example.ORG", "mail.example.org"]
relay_domains = ["Partner.example"]
trusted_networks = []
[spool]
kind = "discard"
directory = "/var/spool/sluice"
io_threads = 8
[metrics]
enabled = false
address = "::1"
port = 9100
)";

TEST(ConfigKeys, EveryKeyIsParsed) {
  const Config& c = ok(load(kEveryKey));
  EXPECT_EQ(c.source, "test.toml");
  EXPECT_EQ(c.workers, 3u);
  EXPECT_EQ(c.log.format, LogFormat::json);
  EXPECT_EQ(c.log.level, LogLevel::debug);

  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].name, "inbound");
  EXPECT_EQ(c.listeners[0].address, "0.0.0.0");
  EXPECT_EQ(c.listeners[0].port, 25);
  EXPECT_FALSE(c.listeners[0].proxy_protocol);
  EXPECT_TRUE(c.listeners[0].proxy_trusted.empty());
  EXPECT_EQ(c.listeners[1].name, "behind-haproxy");
  EXPECT_EQ(c.listeners[1].address, "::1");
  EXPECT_EQ(c.listeners[1].port, 10025);
  EXPECT_TRUE(c.listeners[1].proxy_protocol);
  expect_networks(c.listeners[1].proxy_trusted, {"10.1.0.0/16", "fd00::/8"});
  EXPECT_TRUE(c.listeners[1].proxy_trusted.contains("10.1.2.3"));

  EXPECT_EQ(c.limits.max_connections, 5000u);
  EXPECT_EQ(c.limits.max_connections_per_ip, 7u);
  EXPECT_EQ(c.limits.max_message_size, 10485760u);
  EXPECT_EQ(c.limits.max_recipients, 50u);
  EXPECT_EQ(c.limits.max_bad_commands, 0u);
  EXPECT_EQ(c.limits.max_junk_commands, 7u);
  EXPECT_EQ(c.limits.command_line_max, 2048u);
  EXPECT_EQ(c.limits.text_line_max, 4096u);
  EXPECT_EQ(c.limits.max_pipelined_bytes, 32768u);

  EXPECT_EQ(c.timeouts.greeting, 10s);
  EXPECT_EQ(c.timeouts.command, 120s);
  EXPECT_EQ(c.timeouts.data_init, 90s);
  EXPECT_EQ(c.timeouts.data_block, 3600s);
  EXPECT_EQ(c.timeouts.data_end, 45s);
  EXPECT_EQ(c.timeouts.max_session, 7200s);
  EXPECT_EQ(c.timeouts.drain, 5s);
  EXPECT_EQ(c.timeouts.write, 20s);

  EXPECT_EQ(c.smtp.hostname, "MX1.Example.org");  // kept as written
  EXPECT_EQ(c.smtp.banner_text, "ESMTP ready");
  EXPECT_FALSE(c.smtp.pipelining);
  EXPECT_FALSE(c.smtp.chunking);
  EXPECT_FALSE(c.smtp.eight_bit_mime);
  EXPECT_FALSE(c.smtp.smtputf8);
  EXPECT_FALSE(c.smtp.dsn);
  EXPECT_EQ(c.smtp.pipeconnect_keyword, "X_PIPE_CONNECT");
  expect_networks(c.smtp.pipeconnect_hosts, {"192.0.2.0/24"});
  expect_networks(c.smtp.xclient_hosts, {"127.0.0.1", "2001:db8::/32"});
  EXPECT_TRUE(c.smtp.xclient_require_port);
  EXPECT_EQ(c.smtp.bare_line_ending, BareLineEndingPolicy::normalize);
  EXPECT_EQ(c.smtp.local_domains.entries(), (std::vector<std::string>{"example.org", "mail.example.org"}));
  EXPECT_EQ(c.smtp.relay_domains.entries(), (std::vector<std::string>{"partner.example"}));
  EXPECT_TRUE(c.smtp.trusted_networks.empty());  // [] replaces the loopback default
  EXPECT_FALSE(c.smtp.trusted_networks.contains("127.0.0.1"));

  EXPECT_EQ(c.spool.kind, SpoolKind::discard);
  EXPECT_EQ(c.spool.directory, "/var/spool/sluice");
  EXPECT_EQ(c.spool.io_threads, 8u);

  EXPECT_FALSE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.address, "::1");
  EXPECT_EQ(c.metrics.port, 9100);
}

TEST(ConfigKeys, MetricsProblemsNameTheKey) {
  EXPECT_TRUE(mentions(one_problem(load("[metrics]\nport = 0\n")), "metrics.port"));
  EXPECT_TRUE(mentions(one_problem(load("[metrics]\naddress = \"localhost\"\n")), "metrics.address"));
  EXPECT_TRUE(mentions(one_problem(load("[metrics]\npath = \"/m\"\n")), "unknown key \"path\" in [metrics]"));
}

TEST(ConfigKeys, DottedKeysAndInlineTablesAreTheSameTables) {
  const Config& c = ok(load("limits.max_recipients = 9\ntimeouts = { drain = \"1m\" }\n"));
  EXPECT_EQ(c.limits.max_recipients, 9u);
  EXPECT_EQ(c.timeouts.drain, 60s);
}

// ------------------------------------------------------------- unknown keys

TEST(ConfigUnknown, UnknownKeyIsReportedAtItsLineAndColumn) {
  const auto p = one_problem(load("workers = 1\n\n[limits]\nmax_recipients = 5\n  max_recipent = 5\n"));
  EXPECT_EQ(p.file, "test.toml");
  EXPECT_EQ(p.line, 5);
  EXPECT_EQ(p.column, 3);
  EXPECT_TRUE(mentions(p, "unknown key \"max_recipent\" in [limits]")) << p.message;
  EXPECT_TRUE(mentions(p, "did you mean \"max_recipients\"")) << p.message;
  EXPECT_EQ(p.to_string().rfind("test.toml:5:3: unknown key", 0), 0u) << p.to_string();
}

TEST(ConfigUnknown, UnknownTableAndTopLevelKey) {
  const ConfigLoad l = load("worker = 2\n[smpt]\nhostname = \"x\"\n[[listner]]\nport = 25\n");
  ASSERT_EQ(l.problems.size(), 3u) << all_problems(l);
  EXPECT_EQ(l.problems[0].line, 1);
  EXPECT_TRUE(mentions(l.problems[0], "unknown key \"worker\" in the top level (did you mean \"workers\"?)"))
      << l.problems[0].message;
  EXPECT_EQ(l.problems[1].line, 2);
  EXPECT_TRUE(mentions(l.problems[1], "unknown table [smpt]")) << l.problems[1].message;
  EXPECT_EQ(l.problems[2].line, 4);
  EXPECT_TRUE(mentions(l.problems[2], "unknown table [[listner]]")) << l.problems[2].message;
}

TEST(ConfigUnknown, UnknownKeyInsideAListener) {
  const auto p = one_problem(load("[[listener]]\nport = 25\n[[listener]]\nport = 26\nname = \"b\"\nadress = \"::1\"\n"));
  EXPECT_EQ(p.line, 6);
  EXPECT_TRUE(mentions(p, "unknown key \"adress\" in [[listener]]")) << p.message;
}

// ------------------------------------------------------------- wrong types

TEST(ConfigTypes, WrongTypeNamesKeyAndExpectedType) {
  const auto p = one_problem(load("[limits]\nmax_recipients = \"100\"\n"));
  EXPECT_EQ(p.line, 2);
  EXPECT_EQ(p.column, 18);  // the value
  EXPECT_EQ(p.message, "limits.max_recipients: expected an integer, got a string");
}

TEST(ConfigTypes, MoreWrongTypes) {
  EXPECT_EQ(one_problem(load("[smtp]\npipelining = \"yes\"\n")).message,
            "smtp.pipelining: expected a boolean (true or false), got a string");
  EXPECT_EQ(one_problem(load("workers = 1.5\n")).message, "workers: expected an integer, got a float");
  EXPECT_EQ(one_problem(load("log = \"json\"\n")).message, "log: expected a table ([log]), got a string");
  EXPECT_TRUE(mentions(one_problem(load("[smtp]\nxclient_hosts = \"127.0.0.1\"\n")), "expected an array of CIDR strings"));
  EXPECT_TRUE(mentions(one_problem(load("[listener]\nport = 25\n")), "listener: expected an array of tables"));
}

TEST(ConfigTypes, ChoicesListTheAllowedWords) {
  const auto p = one_problem(load("[log]\nformat = \"xml\"\n"));
  EXPECT_EQ(p.message, "log.format: \"xml\" is not one of \"logfmt\", \"json\"");
  EXPECT_TRUE(mentions(one_problem(load("[smtp]\npipeconnect_keyword = \"pipeconnect\"\n")), "is not one of"));
  EXPECT_TRUE(mentions(one_problem(load("[smtp]\nbare_line_ending = \"fix\"\n")), "\"reject\", \"normalize\""));
  EXPECT_TRUE(mentions(one_problem(load("[spool]\nkind = \"file\"\n")), "spool.kind"));
}

// ------------------------------------------------------------- ranges

TEST(ConfigRanges, NumbersOutsideTheirRangeAreRefused) {
  EXPECT_TRUE(mentions(one_problem(load("workers = -1\n")), "out of range 0..1024"));
  EXPECT_TRUE(mentions(one_problem(load("[limits]\ncommand_line_max = 511\n")), "out of range 512.."));
  EXPECT_TRUE(mentions(one_problem(load("[limits]\ntext_line_max = 999\n")), "out of range 1000.."));
  EXPECT_TRUE(mentions(one_problem(load("[limits]\nmax_recipients = 0\n")), "max_recipients"));
  EXPECT_TRUE(mentions(one_problem(load("[spool]\nio_threads = 0\n")), "out of range 1..64"));
  EXPECT_TRUE(mentions(one_problem(load("[spool]\nio_threads = 65\n")), "out of range 1..64"));
  EXPECT_TRUE(mentions(one_problem(load("[[listener]]\nport = 0\n")), "listener[0].port: 0 is out of range 1..65535"));
  EXPECT_TRUE(mentions(one_problem(load("[[listener]]\nport = 65536\n")), "out of range 1..65535"));
  ok(load("[limits]\ncommand_line_max = 512\ntext_line_max = 1000\n"));  // the RFC minima themselves pass
}

TEST(ConfigRanges, PipelineBufferMustHoldACommandLine) {
  const auto p = one_problem(load("[limits]\ncommand_line_max = 100000\n"));
  EXPECT_EQ(p.line, 2);
  EXPECT_TRUE(mentions(p, "max_pipelined_bytes (65536) must be at least command_line_max (100000)")) << p.message;
}

// ------------------------------------------------------------- CIDR

TEST(ConfigNetworks, BadCidrEntriesAreNamedEach) {
  const ConfigLoad l = load("[smtp]\ntrusted_networks = [\"10.0.0.0/8\", \"10.0.0.0/33\",\n  \"mx.example.org\", 7]\n");
  ASSERT_EQ(l.problems.size(), 3u) << all_problems(l);
  EXPECT_EQ(l.config, nullptr);
  EXPECT_EQ(l.problems[0].line, 2);
  EXPECT_EQ(l.problems[0].column, 35);
  EXPECT_TRUE(mentions(l.problems[0], "smtp.trusted_networks[1]: \"10.0.0.0/33\" is not an IP address or CIDR"))
      << l.problems[0].message;
  EXPECT_EQ(l.problems[1].line, 3);
  EXPECT_TRUE(mentions(l.problems[1], "smtp.trusted_networks[2]: \"mx.example.org\"")) << l.problems[1].message;
  EXPECT_EQ(l.problems[2].message, "smtp.trusted_networks[3]: expected a CIDR string, got an integer");
}

TEST(ConfigNetworks, BadProxyTrustedEntryInAListener) {
  const auto p = one_problem(load("[[listener]]\nproxy_protocol = true\nproxy_trusted = [\"::1/129\"]\n"));
  EXPECT_TRUE(mentions(p, "listener[0].proxy_trusted[0]: \"::1/129\"")) << p.message;
}

// ------------------------------------------------------------- durations and sizes

TEST(ConfigDurations, BadDurationsAreRefused) {
  const ConfigLoad l = load(
      "[timeouts]\ngreeting = \"30x\"\ncommand = \"0s\"\ndata_init = 0\ndata_block = -5\n"
      "data_end = \"25h\"\nmax_session = \"5\"\ndrain = 1.5\n");
  ASSERT_EQ(l.problems.size(), 7u) << all_problems(l);
  EXPECT_EQ(l.problems[0].line, 2);
  EXPECT_TRUE(mentions(l.problems[0], "timeouts.greeting: \"30x\" is not a duration")) << l.problems[0].message;
  EXPECT_TRUE(mentions(l.problems[1], "timeouts.command: must be more than 0")) << l.problems[1].message;
  EXPECT_TRUE(mentions(l.problems[2], "timeouts.data_init: must be more than 0"));
  EXPECT_TRUE(mentions(l.problems[3], "timeouts.data_block: must be more than 0"));
  EXPECT_TRUE(mentions(l.problems[4], "at most 86400s (got 90000s)")) << l.problems[4].message;
  EXPECT_TRUE(mentions(l.problems[5], "timeouts.max_session: \"5\" is not a duration"));
  EXPECT_TRUE(mentions(l.problems[6], "timeouts.drain: expected an integer (seconds) or a string"));
}

TEST(ConfigSizes, SuffixesAreBinaryMultiples) {
  EXPECT_EQ(ok(load("[limits]\nmax_message_size = \"50M\"\n")).limits.max_message_size, 50u * 1024 * 1024);
  EXPECT_EQ(ok(load("[limits]\nmax_message_size = \"2k\"\n")).limits.max_message_size, 2048u);
  EXPECT_EQ(ok(load("[limits]\nmax_message_size = \"1G\"\n")).limits.max_message_size, 1024u * 1024 * 1024);
  EXPECT_EQ(ok(load("[limits]\nmax_message_size = 12345\n")).limits.max_message_size, 12345u);
  EXPECT_EQ(ok(load("[limits]\nmax_pipelined_bytes = \"128K\"\n")).limits.max_pipelined_bytes, 128u * 1024);
}

TEST(ConfigSizes, BadSizesAreRefused) {
  EXPECT_TRUE(mentions(one_problem(load("[limits]\nmax_message_size = \"50MB\"\n")), "\"50MB\" is not a size"));
  EXPECT_TRUE(mentions(one_problem(load("[limits]\nmax_message_size = \"M\"\n")), "is not a size"));
  EXPECT_TRUE(mentions(one_problem(load("[limits]\nmax_message_size = \"50\"\n")), "is not a size"));
  EXPECT_TRUE(mentions(one_problem(load("[limits]\nmax_message_size = -1\n")), "must not be negative"));
  EXPECT_TRUE(mentions(one_problem(load("[limits]\nmax_message_size = 0\n")), "below the minimum 1"));
  EXPECT_TRUE(mentions(one_problem(load("[limits]\nmax_message_size = true\n")),
                       "expected an integer (bytes) or a string like \"50M\", got a boolean"));
}

// ------------------------------------------------------------- listeners

TEST(ConfigListeners, ListenerTablesReplaceTheDefaultAndStartFromItsValues) {
  const Config& c = ok(load("[[listener]]\nport = 25\n"));
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name, "smtp");
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].port, 25);
}

TEST(ConfigListeners, NamesAndEndpointsMustBeUnique) {
  const ConfigLoad l = load(
      "[[listener]]\nport = 25\n"
      "[[listener]]\nport = 587\n"                              // same default name "smtp"
      "[[listener]]\nname = \"other\"\naddress = \"127.0.0.1\"\nport = 25\n");  // same endpoint
  ASSERT_EQ(l.problems.size(), 2u) << all_problems(l);
  EXPECT_EQ(l.problems[0].line, 3);
  EXPECT_TRUE(mentions(l.problems[0], "listener[1]: name \"smtp\" is already used by listener[0] (line 1)"))
      << l.problems[0].message;
  EXPECT_EQ(l.problems[1].line, 5);
  EXPECT_TRUE(mentions(l.problems[1], "127.0.0.1 port 25 is already used by listener[0]")) << l.problems[1].message;
}

TEST(ConfigListeners, SameEndpointWrittenDifferentlyIsStillADuplicate) {
  const auto p = one_problem(load(
      "[[listener]]\nname = \"a\"\naddress = \"::1\"\nport = 25\n"
      "[[listener]]\nname = \"b\"\naddress = \"0:0::1\"\nport = 25\n"));
  EXPECT_TRUE(mentions(p, "is already used by listener[0]")) << p.message;
}

TEST(ConfigListeners, BadListenerValues) {
  EXPECT_TRUE(mentions(one_problem(load("[[listener]]\naddress = \"[::1]\"\n")), "is not an IP address"));
  EXPECT_TRUE(mentions(one_problem(load("[[listener]]\naddress = \"localhost\"\n")), "\"localhost\" is not an IP"));
  EXPECT_TRUE(mentions(one_problem(load("[[listener]]\nname = \"a b\"\n")), "is not a listener name"));
  EXPECT_TRUE(mentions(one_problem(load("listener = []\n")), "at least one [[listener]] is needed"));
  const auto p = one_problem(load("[[listener]]\nport = 2526\nproxy_protocol = true\n"));
  EXPECT_EQ(p.line, 3);
  EXPECT_TRUE(mentions(p, "listener[0].proxy_protocol: is true but proxy_trusted is empty")) << p.message;
}

TEST(ConfigListeners, AListenerWithABadAddressIsNotAlsoReportedAsADuplicate) {
  const auto p = one_problem(load("[[listener]]\nname = \"a\"\n[[listener]]\nname = \"b\"\naddress = \"nope\"\n"));
  EXPECT_TRUE(mentions(p, "\"nope\" is not an IP address")) << p.message;
}

// ------------------------------------------------------------- smtp strings and domains

TEST(ConfigSmtp, DomainsAreValidatedAndLowerCased) {
  const ConfigLoad l = load("[smtp]\nlocal_domains = [\"ok.example\", \"bad_domain.example\", \"-x.example\", \"a..b\"]\n");
  ASSERT_EQ(l.problems.size(), 3u) << all_problems(l);
  EXPECT_TRUE(mentions(l.problems[0], "smtp.local_domains[1]: \"bad_domain.example\" is not a valid domain name"));
  EXPECT_TRUE(mentions(l.problems[1], "local_domains[2]"));
  EXPECT_TRUE(mentions(l.problems[2], "local_domains[3]"));
}

TEST(ConfigSmtp, HostnameAndBannerCannotInjectReplyLines) {
  EXPECT_TRUE(mentions(one_problem(load("[smtp]\nhostname = \"mx example\"\n")), "is not a valid host name"));
  EXPECT_TRUE(mentions(one_problem(load("[smtp]\nbanner_text = \"hi\\r\\n250 fake\"\n")), "smtp.banner_text"));
  EXPECT_TRUE(mentions(one_problem(load("[smtp]\nbanner_text = \"" + std::string(201, 'x') + "\"\n")),
                       "at most 200"));
}

TEST(ConfigSpool, DirectoryMustNotBeEmpty) {
  EXPECT_TRUE(mentions(one_problem(load("[spool]\ndirectory = \"\"\n")), "spool.directory: \"\" is not a directory path"));
}

// ------------------------------------------------------------- collecting and syntax

TEST(ConfigProblems, AllProblemsAreCollectedInFileOrder) {
  const ConfigLoad l = load(
      "[spool]\nio_threads = 100\n"
      "[limits]\nmax_recipients = \"x\"\nbogus = 1\n"
      "[log]\nlevel = \"loud\"\n"
      "[smtp]\nxclient_hosts = [\"1.2.3.4/40\"]\n");
  EXPECT_EQ(l.config, nullptr);
  ASSERT_EQ(l.problems.size(), 5u) << all_problems(l);
  std::vector<int> lines;
  for (const auto& p : l.problems) lines.push_back(p.line);
  EXPECT_EQ(lines, (std::vector<int>{2, 4, 5, 7, 9}));  // sorted, though read table by table
  EXPECT_TRUE(mentions(l.problems[0], "spool.io_threads"));
  EXPECT_TRUE(mentions(l.problems[1], "limits.max_recipients"));
  EXPECT_TRUE(mentions(l.problems[2], "\"bogus\""));
  EXPECT_TRUE(mentions(l.problems[3], "log.level"));
  EXPECT_TRUE(mentions(l.problems[4], "smtp.xclient_hosts[0]"));
}

TEST(ConfigProblems, SyntaxErrorHasItsPosition) {
  const auto p = one_problem(load("workers = 1\n[limits\nmax_recipients = 5\n"));
  EXPECT_EQ(p.file, "test.toml");
  EXPECT_EQ(p.line, 2);
  EXPECT_GT(p.column, 1);
  EXPECT_EQ(p.message.rfind("TOML syntax: ", 0), 0u) << p.message;
}

TEST(ConfigProblems, DuplicateKeyIsASyntaxError) {
  const auto p = one_problem(load("workers = 1\nworkers = 2\n"));
  EXPECT_EQ(p.line, 2);
  EXPECT_TRUE(mentions(p, "TOML syntax")) << p.message;
}

TEST(ConfigProblems, ToStringFormats) {
  EXPECT_EQ((ConfigProblem{"a.toml", 3, 7, "bad"}).to_string(), "a.toml:3:7: bad");
  EXPECT_EQ((ConfigProblem{"a.toml", 0, 0, "cannot open"}).to_string(), "a.toml: cannot open");
}

// ------------------------------------------------------------- files

TEST(ConfigFile, MissingFileIsAProblemWithoutPosition) {
  const ConfigLoad l = load_config_file("/nonexistent/sluice.toml");
  const auto p = one_problem(l);
  EXPECT_EQ(p.to_string(), "/nonexistent/sluice.toml: cannot open config file: No such file or directory");
}

TEST(ConfigFile, SourceIsTheFilePathAndProblemsNameIt) {
  char path[] = "/tmp/sluice_config_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "workers = 2\n[smtp]\ndsn = 1\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  const auto p = one_problem(load_config_file(path));
  EXPECT_EQ(p.to_string(), std::string(path) + ":3:7: smtp.dsn: expected a boolean (true or false), got an integer");

  const std::string good = "workers = 2\n";
  std::FILE* f = std::fopen(path, "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(good.data(), 1, good.size(), f);
  std::fclose(f);
  const ConfigLoad l = load_config_file(path);
  ASSERT_NE(l.config, nullptr) << all_problems(l);
  EXPECT_EQ(l.config->source, path);
  EXPECT_EQ(l.config->workers, 2u);
  std::remove(path);
}

TEST(ConfigFile, ExampleFileLoadsWithoutProblems) {
#ifdef SLUICE_SOURCE_DIR
  const std::string path = std::string(SLUICE_SOURCE_DIR) + "/deploy/sluice.example.toml";
  const ConfigLoad l = load_config_file(path);
  ASSERT_TRUE(l.problems.empty()) << all_problems(l);
  ASSERT_NE(l.config, nullptr);
  // It is a full example: it sets what the defaults do not.
  EXPECT_GE(l.config->listeners.size(), 2u);
  EXPECT_FALSE(l.config->smtp.relay_domains.empty());
  EXPECT_FALSE(l.config->smtp.xclient_hosts.empty());
#else
  GTEST_SKIP() << "SLUICE_SOURCE_DIR is not defined; cannot find deploy/sluice.example.toml";
#endif
}

}  // namespace
}  // namespace sluice::gateway
