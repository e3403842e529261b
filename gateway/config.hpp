// config.hpp — Sluice's whole configuration as plain data.
//
// Parsed and validated once (config_loader.hpp) from TOML, or from the embedded
// default when no file is given; then shared read-only (shared_ptr<const Config>)
// by every worker. SIGHUP builds a new Config and swaps the pointer; a session
// keeps the Config it started with. Every field is documented, with its default,
// in docs/configuration.md — keep the two in step.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/domain_list.hpp"
#include "gateway/host_list.hpp"
#include "gateway/network_list.hpp"

namespace sluice::gateway {

enum class LogFormat { logfmt, json };
enum class LogLevel { debug, info, warn, error };
enum class BareLineEndingPolicy { reject, normalize };
enum class SpoolKind { lmdb, discard };
enum class RouteActionConfig { relay, queuefile, discard };
enum class TlsMode { off, starttls, implicit };

// One certificate: chosen by SNI when the client names one of `names`
// (exact, or "*.example.org" for one label), else the first is the default.
struct TlsCertificateConfig {
  std::string cert;                 // PEM chain, leaf first
  std::string key;                  // PEM private key (RSA or EC)
  std::vector<std::string> names;   // empty: the names in the certificate are not read; default only
  std::string ocsp;                 // DER OCSP response to staple; empty: none
};

struct ListenerConfig {
  std::string name = "smtp";
  std::string address = "127.0.0.1";
  std::uint16_t port = 2525;
  bool proxy_protocol = false;        // expect a PROXY v1/v2 header first
  NetworkList proxy_trusted;          // sources allowed to send it
  TlsMode tls = TlsMode::off;         // STARTTLS offered, TLS from the first byte, or none
  // Certificates for this listener; empty: the ones in [tls].
  std::vector<TlsCertificateConfig> tls_certificates;
};

struct LimitsConfig {
  std::uint64_t max_connections = 10000;       // global; 421 4.7.0 before the banner
  std::uint32_t max_connections_per_ip = 100;  // per client IP (real socket peer)
  std::uint64_t max_message_size = 50ull * 1024 * 1024;  // SIZE and streaming check, 552 5.3.4
  std::uint32_t max_recipients = 100;          // 452 4.5.3
  std::uint32_t max_bad_commands = 20;         // then 421 4.7.0 and close
  // NOOP, RSET, VRFY, EXPN and HELP since the last message accepted; past
  // this many each also counts as a bad command (Postfix's
  // smtpd_junk_command_limit), so a client that only idles is closed.
  std::uint32_t max_junk_commands = 100;
  // RFC 5321 4.5.3.1.4: 512, "SMTP extensions may be used to increase this
  // limit": DSN adds up to 500 to RCPT (RFC 3461 4), XCLIENT lines from a
  // proxy carry several values of up to 255. 2048 as Postfix's line_length_limit.
  std::size_t command_line_max = 2048;  // incl. CRLF
  std::size_t text_line_max = 1000;            // RFC 5321 4.5.3.1.6, incl. CRLF
  std::size_t max_pipelined_bytes = 64 * 1024; // unread pipelined input held at most
};

// RFC 5321 4.5.3.2 defaults.
struct TimeoutsConfig {
  std::chrono::seconds greeting{300};   // waiting for the first command
  std::chrono::seconds command{300};    // MAIL, RCPT and everything else
  std::chrono::seconds data_init{120};  // after the 354
  std::chrono::seconds data_block{180}; // between data reads
  std::chrono::seconds data_end{600};   // after the final dot, for our own commit
  std::chrono::seconds max_session{3600};
  std::chrono::seconds drain{30};       // SIGTERM: how long in-flight sessions may finish
  std::chrono::seconds write{60};       // a reply the client does not take (not in RFC 5321)
};

struct SmtpConfig {
  std::string hostname = "localhost";   // banner, EHLO, Received
  std::string banner_text = "ESMTP Sluice";
  bool pipelining = true, chunking = true, eight_bit_mime = true, smtputf8 = true, dsn = true;
  std::string pipeconnect_keyword = "PIPECONNECT";  // or "X_PIPE_CONNECT"
  // Host lists: CIDR entries and "lmdb;/path" lookups keyed by the client IP.
  HostList pipeconnect_hosts = NetworkList::any();
  HostList xclient_hosts;               // empty: XCLIENT never offered
  bool xclient_require_port = false;    // Exim's stricter rule (ADDR and PORT on the first XCLIENT)
  BareLineEndingPolicy bare_line_ending = BareLineEndingPolicy::reject;
  // Domain lists: literal names and "lmdb;/path" lookups (gateway/domain_list.hpp).
  DomainList local_domains = {"localhost"};
  DomainList relay_domains;
  HostList trusted_networks = NetworkList::loopback();  // may relay anywhere
};

struct SpoolConfig {
  SpoolKind kind = SpoolKind::lmdb;
  std::string directory = "./var/spool";
  std::uint32_t io_threads = 2;         // threads for spill-file writes and fsync, off the loops
  std::uint64_t map_size = 4ull << 30;  // LMDB map: the most the queue database may grow to
  std::uint64_t inline_max = 128 * 1024;  // bodies up to this live in LMDB; larger get a file each
};

// Retry and retention of queued messages (storage/queue_runner.hpp).
struct QueueConfig {
  std::chrono::seconds retry_first{60};     // first retry after a temporary failure
  std::chrono::seconds retry_max{3600};     // the doubling interval stops here
  std::chrono::seconds give_up_after{5 * 24 * 3600};  // then deferred recipients fail (bounced)
  std::chrono::seconds keep_done{3600};     // finished records stay visible this long
};

// [[route]]: the first route whose domains match a recipient takes it.
struct RouteConfig {
  std::string name;
  DomainList domains;                   // empty: every domain; literals and "lmdb;/path"
  RouteActionConfig action = RouteActionConfig::relay;
  std::string directory;                // queuefile
  std::string exim_id_format = "4.97";  // queuefile: "4.97" or "4.96"
};

// "lmdb;/path" items in domain and host lists (storage/lmdb_lookup.hpp).
struct LookupsConfig {
  // How often a lookup stat()s its file to notice a replacement (rename).
  std::chrono::milliseconds recheck_interval{1000};
};

// [dns]: the resolver each worker runs for the filters (filters/ares_resolver.hpp).
// Read at start; a SIGHUP reload does not rebuild the workers' resolvers.
struct DnsConfig {
  std::vector<std::string> servers;     // IP literals; empty: the servers in /etc/resolv.conf
  std::uint16_t port = 53;              // for every server listed here (and resolv.conf's)
  std::chrono::milliseconds timeout{2000};  // per try; c-ares doubles it on each round of servers
  std::uint32_t tries = 2;              // rounds over the servers before status timeout
  std::size_t cache_entries = 10000;    // per worker; least recently used goes first
  std::chrono::seconds negative_ttl{300};  // cap on NXDOMAIN/NODATA caching, and its value without SOA
};

// [filters]: the filter chain (filters/filter_chain.hpp, docs/filters.md).
enum class FilterFailure { carry_on, defer };  // timed out or could not run: go on (temperror) or 451
struct FilterSettings {
  bool enabled = true;
  std::chrono::seconds timeout{30};     // from end of data (SPF: from MAIL) to its result
  FilterFailure on_failure = FilterFailure::carry_on;
};
struct FiltersConfig {
  bool enabled = true;
  std::string authserv_id;              // Authentication-Results id; empty: smtp.hostname
  bool received_spf = true;             // add Received-SPF beside Authentication-Results
  // Who is not judged: an operator's own submission clients and front ends.
  bool skip_trusted = true;             // clients in smtp.trusted_networks (our own relay clients)
  bool skip_authenticated = true;       // XCLIENT LOGIN given
  bool skip_xclient = false;            // any session whose client was named by XCLIENT
  HostList skip_hosts;                  // client address
  std::vector<std::string> skip_listeners;  // listener names
  FilterSettings spf, dkim, dmarc;
  std::string dmarc_history_file;       // OpenDMARC-format history; empty: none (read at start only)
  std::string dmarc_forensic_sender;    // failure reports' sender; empty: no reports are sent
};

// [[policy]]: operator rules on the filters' results, Exim ACL statements in
// TOML (filters/policy.hpp evaluates them; docs/filters.md, "Policy").
enum class PolicyPhase { mail, rcpt, data };
enum class PolicyAction { accept, reject, defer, warn };
struct PolicyRule {
  std::string name;                      // for logs: "policy[3]" unless named
  PolicyPhase phase = PolicyPhase::data;
  // Conditions, all of which must hold (an absent one holds). Word lists
  // match like Exim's: true when any item matches; "!word" matches every
  // value but word.
  std::vector<std::string> spf, dkim, dmarc_status, dmarc_domain_policy;
  std::optional<bool> authenticated;     // XCLIENT LOGIN given (true) or not (false)
  HostList hosts;                        // the client's address
  bool has_hosts = false;
  DomainList domains;                    // recipient domain (rcpt); any recipient's (data)
  bool has_domains = false;
  DomainList sender_domains;             // MAIL FROM's domain
  bool has_sender_domains = false;
  HostList not_hosts;                    // the negations (Exim's !hosts = ..., !domains = ...)
  bool has_not_hosts = false;
  DomainList not_domains;
  bool has_not_domains = false;
  std::vector<std::string> flags;        // set earlier by set_flags; "!name": not set
  PolicyAction action = PolicyAction::warn;
  // Modifiers. Texts may use ${variable} (filters/policy.hpp lists them).
  std::string message;                   // reject/defer reply text
  std::string log;                       // a log line (event=policy)
  std::string add_header;                // "Name: value", put on top of the message (data)
  std::string quarantine;                // directory: the message goes there as a queuefile pair (data)
  std::vector<std::string> set_flags;    // remembered for later rules of this transaction
  std::vector<std::string> controls;     // dmarc_disable_verify, dmarc_enable_forensic, spf_disable, dkim_disable
};

// [tls]: settings shared by every listener with tls != "off" (tls/*.hpp).
// Who makes a handshake's signature with the certificate's key (docs/tls.md).
enum class Signer { libcrypto, wolfssl };

struct TlsConfig {
  std::vector<TlsCertificateConfig> certificates;  // [[tls.certificate]]
  std::string min_version = "1.2";      // "1.2" or "1.3"
  // OpenSSL-style list, TLS 1.2 and 1.3 suites together: forward secrecy and AEAD only.
  std::string ciphers =
      "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  std::chrono::seconds handshake_timeout{30};
  std::uint32_t max_handshakes_per_worker = 64;  // concurrent; over it STARTTLS gets 454 4.7.0
  bool session_tickets = true;
  std::chrono::seconds ticket_key_rotation{3600};  // in-memory keys: a new one this often
  std::chrono::seconds ticket_lifetime{7200};      // hint to clients; old keys decrypt this long
  std::string ticket_key_file;          // file or directory of shared keys; empty: in memory
  std::chrono::seconds reload_check_interval{5};   // stat() of certificate, key, OCSP and key files
  bool log_protocol_details = false;    // low-level lines for harmless oddities (reset after QUIT)
  // Who makes the signature of a handshake (docs/tls.md): libcrypto, about
  // six times faster for RSA and three to four for ECDSA than Debian's
  // wolfSSL build, or wolfSSL itself.
  Signer rsa_signing = Signer::libcrypto;
  Signer ecdsa_signing = Signer::libcrypto;
  // Client certificates for trusted relays (docs/tls.md): with a CA file,
  // every TLS session is asked (never required) for a certificate; one that
  // verifies against these CAs, and whose name is listed (any name when the
  // list is empty), may relay like smtp.trusted_networks.
  std::string client_ca_file;
  std::vector<std::string> client_cert_relay_names;  // CN or DNS subjectAltName, lower case
};

struct LogConfig {
  LogFormat format = LogFormat::logfmt;
  LogLevel level = LogLevel::info;
};

// The metrics and health HTTP endpoint (docs/metrics.md). Its address is
// read at start only: SIGHUP does not move it.
struct MetricsConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";
  std::uint16_t port = 9125;
};

struct Config {
  std::string source = "<embedded default>";  // file name, for logs
  std::uint32_t workers = 0;            // 0: one per core
  std::vector<ListenerConfig> listeners = {ListenerConfig{}};
  LimitsConfig limits;
  TimeoutsConfig timeouts;
  SmtpConfig smtp;
  SpoolConfig spool;
  QueueConfig queue;
  std::vector<RouteConfig> routes;
  LookupsConfig lookups;
  DnsConfig dns;
  FiltersConfig filters;
  std::vector<PolicyRule> policy;
  TlsConfig tls;
  LogConfig log;
  MetricsConfig metrics;
};

using ConfigPtr = std::shared_ptr<const Config>;

}  // namespace sluice::gateway
