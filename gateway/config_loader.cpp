#include "gateway/config_loader.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>

#include "gateway/config_filters.hpp"
#include "gateway/config_policy.hpp"
#include "gateway/config_tls.hpp"
#include "gateway/config_values.hpp"

namespace sluice::gateway {

namespace {

constexpr std::int64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t kMaxI64 = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kMaxFileBytes = 1 << 20;
// Line limits above this are typos; the buffers they size are per session.
constexpr std::int64_t kMaxLineLimit = 1 << 20;
// RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with its CRLF; the
// banner shares it with "220 ", the host name (up to 253) and a space.
constexpr std::size_t kMaxBannerText = 200;

bool is_ip_literal(std::string_view s) { return parse_ip(s).has_value(); }

bool is_listener_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

// The banner goes out verbatim in the 220 reply: printable ASCII only, so a
// CR or LF in the config can never forge extra reply lines.
bool is_banner_text(std::string_view s) {
  if (s.size() > kMaxBannerText) return false;
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

bool is_spool_directory(std::string_view s) {
  return !s.empty() && s.find('\0') == std::string_view::npos;
}

void read_log(TableReader& r, LogConfig& log) {
  r.choice("format", {{"logfmt", LogFormat::logfmt}, {"json", LogFormat::json}}, log.format);
  r.choice("level",
           {{"debug", LogLevel::debug}, {"info", LogLevel::info}, {"warn", LogLevel::warn}, {"error", LogLevel::error}},
           log.level);
  r.finish();
}

void read_listener(TableReader& r, ListenerConfig& l) {
  r.string("name", is_listener_name, "a listener name (1..64 of A-Z a-z 0-9 . _ -)", l.name);
  r.string("address", is_ip_literal, "an IP address (IPv4, or IPv6 without brackets)", l.address);
  r.integer("port", 1, 65535, l.port);
  r.boolean("proxy_protocol", l.proxy_protocol);
  const bool trusted_bad = !r.networks("proxy_trusted", l.proxy_trusted) && r.toml_table().contains("proxy_trusted");
  read_listener_tls(r, l);
  r.finish();
  // A PROXY header is only read from proxy_trusted sources; with none, every
  // connection would be dropped. Refuse the config rather than run it. (Not
  // when proxy_trusted is bad: that is already reported. proxy_protocol
  // defaults to false, so when it is true the key is there.)
  if (l.proxy_protocol && l.proxy_trusted.empty() && !trusted_bad) {
    r.problem(*r.toml_table().get("proxy_protocol"), "proxy_protocol",
              "is true but proxy_trusted is empty, so every connection would be refused; "
              "list the addresses of the proxies");
  }
}

// Two listeners may share neither a name (it keys reloads and logs) nor an
// address and port (the second bind would fail at start-up).
void check_listeners_unique(const std::vector<ListenerConfig>& ls, const std::vector<const toml::table*>& tables,
                            const std::vector<bool>& valid, ProblemSink& sink) {
  std::map<std::string, std::size_t> names;
  std::map<std::pair<IpBytes, std::uint16_t>, std::size_t> endpoints;
  for (std::size_t i = 0; i < ls.size(); ++i) {
    if (!valid[i]) continue;  // its values may be defaults standing in for bad ones
    const std::string self = "listener[" + std::to_string(i) + "]: ";
    auto earlier = [&](std::size_t j) {
      return "listener[" + std::to_string(j) + "] (line " + std::to_string(tables[j]->source().begin.line) + ")";
    };
    if (auto [it, fresh] = names.emplace(ls[i].name, i); !fresh)
      sink.add(tables[i]->source(), self + "name \"" + ls[i].name + "\" is already used by " + earlier(it->second) +
                                        "; give each [[listener]] its own name");
    const auto key = std::pair(*parse_ip(ls[i].address), ls[i].port);
    if (auto [it, fresh] = endpoints.emplace(key, i); !fresh)
      sink.add(tables[i]->source(), self + ls[i].address + " port " + std::to_string(ls[i].port) +
                                        " is already used by " + earlier(it->second));
  }
}

void read_listeners(TableReader& top, std::vector<ListenerConfig>& out) {
  const toml::array* arr = top.array_of_tables("listener");
  if (!arr) return;
  if (arr->empty()) {
    top.problem(*arr, "listener", "at least one [[listener]] is needed");
    return;
  }
  std::vector<ListenerConfig> ls(arr->size());
  std::vector<const toml::table*> tables;
  std::vector<bool> valid;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table& t = *arr->get(i)->as_table();
    const std::size_t before = top.sink().count();
    TableReader r(t, "listener[" + std::to_string(i) + "]", "[[listener]]", top.sink());
    read_listener(r, ls[i]);
    tables.push_back(&t);
    valid.push_back(top.sink().count() == before);
  }
  check_listeners_unique(ls, tables, valid, top.sink());
  out = std::move(ls);
}

void read_limits(TableReader& r, LimitsConfig& l) {
  r.integer("max_connections", 1, kMaxI64, l.max_connections);
  r.integer("max_connections_per_ip", 1, kMaxU32, l.max_connections_per_ip);
  r.size("max_message_size", 1, l.max_message_size);
  r.integer("max_recipients", 1, kMaxU32, l.max_recipients);
  r.integer("max_bad_commands", 0, kMaxU32, l.max_bad_commands);
  r.integer("max_junk_commands", 0, kMaxU32, l.max_junk_commands);
  r.integer("command_line_max", 512, kMaxLineLimit, l.command_line_max);  // RFC 5321 4.5.3.1.4
  r.integer("text_line_max", 1000, kMaxLineLimit, l.text_line_max);       // RFC 5321 4.5.3.1.6
  r.size("max_pipelined_bytes", 512, l.max_pipelined_bytes);
  r.finish();
  // The pipelining buffer must hold at least one whole command line.
  if (l.max_pipelined_bytes < l.command_line_max) {
    const char* key = r.toml_table().contains("max_pipelined_bytes") ? "max_pipelined_bytes" : "command_line_max";
    r.problem(*r.toml_table().get(key), key,
              "max_pipelined_bytes (" + std::to_string(l.max_pipelined_bytes) + ") must be at least command_line_max (" +
                  std::to_string(l.command_line_max) + ")");
  }
}

void read_timeouts(TableReader& r, TimeoutsConfig& t) {
  r.duration("greeting", t.greeting);
  r.duration("command", t.command);
  r.duration("data_init", t.data_init);
  r.duration("data_block", t.data_block);
  r.duration("data_end", t.data_end);
  r.duration("max_session", t.max_session);
  r.duration("drain", t.drain);
  r.duration("write", t.write);
  r.finish();
}

void read_lookups(TableReader& r, LookupsConfig& l) {
  std::chrono::seconds interval{1};
  if (r.duration("recheck_interval", interval)) l.recheck_interval = interval;
  r.finish();
}

void read_smtp(TableReader& r, SmtpConfig& s, std::chrono::milliseconds recheck) {
  r.string("hostname", is_domain_name, "a valid host name", s.hostname);
  r.string("banner_text", is_banner_text, "printable ASCII text of at most 200 characters", s.banner_text);
  r.boolean("pipelining", s.pipelining);
  r.boolean("chunking", s.chunking);
  r.boolean("eight_bit_mime", s.eight_bit_mime);
  r.boolean("smtputf8", s.smtputf8);
  r.boolean("dsn", s.dsn);
  std::string_view keyword;
  if (r.choice("pipeconnect_keyword", {{"PIPECONNECT", "PIPECONNECT"}, {"X_PIPE_CONNECT", "X_PIPE_CONNECT"}}, keyword))
    s.pipeconnect_keyword = std::string(keyword);
  r.host_list("pipeconnect_hosts", recheck, s.pipeconnect_hosts);
  r.host_list("xclient_hosts", recheck, s.xclient_hosts);
  r.boolean("xclient_require_port", s.xclient_require_port);
  r.choice("bare_line_ending",
           {{"reject", BareLineEndingPolicy::reject}, {"normalize", BareLineEndingPolicy::normalize}},
           s.bare_line_ending);
  r.domain_list("local_domains", recheck, s.local_domains);
  r.domain_list("relay_domains", recheck, s.relay_domains);
  r.host_list("trusted_networks", recheck, s.trusted_networks);
  r.finish();
}

void read_spool(TableReader& r, SpoolConfig& s) {
  r.choice("kind", {{"lmdb", SpoolKind::lmdb}, {"discard", SpoolKind::discard}}, s.kind);
  r.string("directory", is_spool_directory, "a directory path", s.directory);
  r.integer("io_threads", 1, 64, s.io_threads);
  r.size("map_size", 1ull << 20, s.map_size);
  r.size("inline_max", 0, s.inline_max);
  r.finish();
  // LMDB's own limit on a value is the map; a body near it would never fit.
  if (s.inline_max > s.map_size / 4)
    r.problem(*r.toml_table().get(r.toml_table().contains("inline_max") ? "inline_max" : "map_size"),
              r.toml_table().contains("inline_max") ? "inline_max" : "map_size",
              "inline_max must be at most a quarter of map_size");
}

void read_queue(TableReader& r, QueueConfig& q) {
  r.duration("retry_first", q.retry_first);
  r.duration("retry_max", q.retry_max);
  r.duration("give_up_after", q.give_up_after, std::chrono::seconds(60 * 86400));
  r.duration("keep_done", q.keep_done, std::chrono::seconds(60 * 86400));
  r.finish();
}

void read_dns(TableReader& r, DnsConfig& d) {
  r.strings("servers", is_ip_literal, "an IP address (IPv4, or IPv6 without brackets)", d.servers);
  r.integer("port", 1, 65535, d.port);
  std::chrono::seconds timeout{2};
  if (r.duration("timeout", timeout, std::chrono::seconds(60))) d.timeout = timeout;
  r.integer("tries", 1, 10, d.tries);
  r.integer("cache_entries", 0, 10'000'000, d.cache_entries);
  r.duration("negative_ttl", d.negative_ttl, std::chrono::seconds(86400));
  r.finish();
}

bool is_route_name(std::string_view s) { return is_listener_name(s); }
bool is_exim_id_format(std::string_view s) { return s == "4.97" || s == "4.96"; }

void read_routes(TableReader& top, std::chrono::milliseconds recheck, std::vector<RouteConfig>& out) {
  const toml::array* arr = top.array_of_tables("route");
  if (!arr) return;
  std::map<std::string, std::size_t> names;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table& t = *arr->get(i)->as_table();
    TableReader r(t, "route[" + std::to_string(i) + "]", "[[route]]", top.sink());
    RouteConfig rc;
    rc.name = "route" + std::to_string(i);
    r.string("name", is_route_name, "a route name (1..64 of A-Z a-z 0-9 . _ -)", rc.name);
    r.domain_list("domains", recheck, rc.domains);
    r.choice("action",
             {{"relay", RouteActionConfig::relay}, {"queuefile", RouteActionConfig::queuefile},
              {"discard", RouteActionConfig::discard}},
             rc.action);
    r.string("directory", is_spool_directory, "a directory path", rc.directory);
    r.string("exim_id_format", is_exim_id_format, "\"4.97\" (23-character ids) or \"4.96\" (16)", rc.exim_id_format);
    r.finish();
    if (rc.action == RouteActionConfig::queuefile && rc.directory.empty())
      r.problem(t, "directory", "is needed for action = \"queuefile\"");
    if (auto [it, fresh] = names.emplace(rc.name, i); !fresh)
      r.problem(t, "name", "\"" + rc.name + "\" is already used by route[" + std::to_string(it->second) + "]");
    out.push_back(std::move(rc));
  }
}

void read_metrics(TableReader& r, MetricsConfig& m) {
  r.boolean("enabled", m.enabled);
  r.string("address", is_ip_literal, "an IP address (IPv4, or IPv6 without brackets)", m.address);
  r.integer("port", 1, 65535, m.port);
  r.finish();
}

void read_config(const toml::table& root, Config& cfg, ProblemSink& sink) {
  TableReader top(root, "", "the top level", sink);
  top.integer("workers", 0, 1024, cfg.workers);
  if (auto r = top.table("log")) read_log(*r, cfg.log);
  read_listeners(top, cfg.listeners);
  if (auto r = top.table("limits")) read_limits(*r, cfg.limits);
  if (auto r = top.table("timeouts")) read_timeouts(*r, cfg.timeouts);
  cfg.smtp.hostname = machine_hostname();  // the default unless smtp.hostname is set
  // Before [smtp]: its lists open lookup files with this interval.
  if (auto r = top.table("lookups")) read_lookups(*r, cfg.lookups);
  if (auto r = top.table("smtp")) read_smtp(*r, cfg.smtp, cfg.lookups.recheck_interval);
  if (auto r = top.table("spool")) read_spool(*r, cfg.spool);
  if (auto r = top.table("queue")) read_queue(*r, cfg.queue);
  read_routes(top, cfg.lookups.recheck_interval, cfg.routes);
  if (auto r = top.table("metrics")) read_metrics(*r, cfg.metrics);
  if (auto r = top.table("dns")) read_dns(*r, cfg.dns);
  if (auto r = top.table("filters")) read_filters(*r, cfg.lookups.recheck_interval, cfg.filters);
  read_policy(top, cfg.lookups.recheck_interval, cfg.policy);
  if (auto r = top.table("tls")) read_tls(*r, cfg.tls);
  check_listeners_tls(cfg.listeners, cfg.tls, sink);
  top.finish();
}

// Reads at most kMaxFileBytes; a problem message on failure.
std::optional<std::string> read_file(const std::string& path, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = std::string("cannot open config file: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::string text(kMaxFileBytes + 1, '\0');
  const std::size_t n = std::fread(text.data(), 1, text.size(), f);
  const int read_errno = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (read_errno) {
    error = std::string("cannot read config file: ") + std::strerror(read_errno);
    return std::nullopt;
  }
  if (n > kMaxFileBytes) {
    error = "config file is larger than 1 MiB";
    return std::nullopt;
  }
  text.resize(n);
  return text;
}

}  // namespace

std::string ConfigProblem::to_string() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

ConfigLoad load_config_text(std::string_view toml_text, const std::string& source_name) {
  ProblemSink sink(source_name);
  ConfigLoad out;
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(source_name));
  } catch (const toml::parse_error& e) {
    sink.add(e.source(), "TOML syntax: " + std::string(e.description()));
    out.problems = sink.take_sorted();
    return out;
  }
  auto cfg = std::make_shared<Config>();
  cfg->source = source_name;
  read_config(root, *cfg, sink);
  out.problems = sink.take_sorted();
  if (out.problems.empty()) out.config = std::move(cfg);
  return out;
}

ConfigLoad load_config_file(const std::string& path) {
  std::string error;
  auto text = read_file(path, error);
  if (!text) return ConfigLoad{nullptr, {ConfigProblem{path, 0, 0, error}}};
  return load_config_text(*text, path);
}

// Every value here equals the default in config.hpp; config_loader_test
// checks that. smtp.hostname is left out on purpose: its default is the
// machine's host name.
std::string_view embedded_default_config() {
  return R"toml(# Sluice embedded default configuration (docs/configuration.md).
workers = 0                     # one worker per core

[log]
format = "logfmt"
level = "info"

[[listener]]
name = "smtp"
address = "127.0.0.1"
port = 2525
proxy_protocol = false
proxy_trusted = []
tls = "off"                     # or "starttls", "implicit" (needs a [[tls.certificate]])

[limits]
max_connections = 10000
max_connections_per_ip = 100
max_message_size = "50M"
max_recipients = 100
max_bad_commands = 20
max_junk_commands = 100         # NOOP RSET VRFY EXPN HELP between messages
command_line_max = 2048         # RFC 5321 4.5.3.1.4 says 512 + what extensions add (DSN: 500)
text_line_max = 1000            # RFC 5321 4.5.3.1.6
max_pipelined_bytes = "64K"

[timeouts]                      # RFC 5321 4.5.3.2
greeting = "5m"
command = "5m"
data_init = "2m"
data_block = "3m"
data_end = "10m"
max_session = "1h"
drain = "30s"
write = "1m"                    # a reply the client does not read

[smtp]
# hostname = "mx.example.org"   # default: this machine's host name
banner_text = "ESMTP Sluice"
pipelining = true
chunking = true
eight_bit_mime = true
smtputf8 = true
dsn = true
pipeconnect_keyword = "PIPECONNECT"
pipeconnect_hosts = ["0.0.0.0/0", "::/0"]
xclient_hosts = []
xclient_require_port = false
bare_line_ending = "reject"
local_domains = ["localhost"]
relay_domains = []
trusted_networks = ["127.0.0.0/8", "::1"]

[spool]
kind = "lmdb"
directory = "./var/spool"
io_threads = 2
map_size = "4G"
inline_max = "128K"

[queue]
retry_first = "1m"
retry_max = "1h"
give_up_after = "5d"
keep_done = "1h"

# No [[route]]: every recipient waits in the queue for relay delivery.

[lookups]
recheck_interval = "1s"

[metrics]                       # GET /metrics, /healthz, /readyz (docs/metrics.md)
enabled = true
address = "127.0.0.1"
port = 9125

[dns]
# servers = ["127.0.0.1"]   # default: the nameservers in /etc/resolv.conf
port = 53
timeout = "2s"
tries = 2
cache_entries = 10000
negative_ttl = "5m"

[tls]                           # docs/tls.md; ciphers: the safe default list
min_version = "1.2"
handshake_timeout = "30s"
max_handshakes_per_worker = 64
session_tickets = true
ticket_key_rotation = "1h"
ticket_lifetime = "2h"
ticket_key_file = ""            # keys in memory, never on disk
reload_check_interval = "5s"
log_protocol_details = false
rsa_signing = "libcrypto"      # who signs with an RSA key: "libcrypto" (about 6x faster) | "wolfssl"
ecdsa_signing = "libcrypto"    # who signs with an EC key: "libcrypto" (3-4x faster) | "wolfssl"
# [[tls.certificate]]
# cert = "/etc/sluice/fullchain.pem"
# key = "/etc/sluice/key.pem"
# names = ["mx.example.org"]
# ocsp = "/var/lib/sluice/ocsp.der"
)toml";
}

}  // namespace sluice::gateway
