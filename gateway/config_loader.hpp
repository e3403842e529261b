// config_loader.hpp — reads and validates Sluice's TOML configuration into a
// Config (config.hpp). The schema and every option are documented in
// docs/configuration.md; deploy/sluice.example.toml is a full example.
//
// Contract: all or nothing. A load either returns a complete Config and no
// problems, or no Config and every problem found: TOML syntax (the parser
// stops at the first), unknown keys or tables, wrong types, values out of
// range, bad CIDR entries, duplicate listeners. Each problem carries the
// file, line and column, so `sluice check-config` and a refused SIGHUP reload
// can both point at the exact spot. Missing keys keep the defaults of
// config.hpp, except smtp.hostname, which defaults to the machine's host name.
//
// Limits: files larger than 1 MiB are refused before parsing. Loading does no
// I/O beyond reading the one file, gethostname(), and opening each
// "lmdb;/path" lookup file a list names (a missing or corrupt one is a
// problem at its entry); it never binds sockets or touches the spool
// directory, so it is safe to call on a running gateway.
//
// Security: every host-based permission (trusted_networks, xclient_hosts,
// proxy_trusted, pipeconnect_hosts) is a CIDR list (the smtp ones may add
// exact-IP lookup files), never a DNS name; a listener that expects PROXY
// headers from nobody is refused, not run.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config.hpp"

namespace sluice::gateway {

struct ConfigProblem {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem has no position (unreadable file)
  int column = 0;  // 1-based; 0 when unknown
  std::string message;
  // "file:line:col: message", or "file: message" without a position.
  std::string to_string() const;
};

struct ConfigLoad {
  ConfigPtr config;  // null when problems is non-empty
  std::vector<ConfigProblem> problems;
};

// Reads the file at `path`; Config::source is set to `path`.
ConfigLoad load_config_file(const std::string& path);

// Parses `toml_text`; `source_name` names it in problems and in Config::source.
ConfigLoad load_config_text(std::string_view toml_text, const std::string& source_name);

// The configuration used when no file is given, as TOML text. Loading it
// gives exactly the defaults of config.hpp (hostname: see above).
std::string_view embedded_default_config();

}  // namespace sluice::gateway
