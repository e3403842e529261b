// dkim_test_support.hpp — for the DKIM tests: serve key records from a real
// unbound on loopback (filters/dns_test_server.hpp) and run a DkimVerifier
// over a message through the c-ares resolver, the way a worker would.
#pragma once
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "filters/ares_resolver.hpp"
#include "filters/dkim_verifier.hpp"
#include "filters/dns_test_server.hpp"

namespace sluice::filters::testing {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// LF or CRLF text → CRLF (first CRLF → LF, then LF → CRLF).
inline std::string to_crlf(std::string_view text) {
  std::string lf;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) lf.push_back(text[i]);
  std::string out;
  for (char c : lf) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// A TXT local-data line; long values split into 255-octet strings.
inline std::string txt_record(const std::string& owner, const std::string& value) {
  std::string r = owner + ". 300 IN TXT";
  for (std::size_t i = 0; i < value.size() || i == 0; i += 255) r += " \"" + value.substr(i, 255) + "\"";
  return r;
}

// `keys`: owner name → TXT value. Zones are "_domainkey.<d>." for every
// d= in `message` and every owner, so other selectors are NXDOMAIN.
struct KeyServer {
  std::unique_ptr<UnboundServer> server;
  std::string error;
};

inline KeyServer serve_keys(const std::map<std::string, std::string>& keys,
                            const std::set<std::string>& domains) {
  std::set<std::string> zones;
  std::vector<std::string> records;
  for (const auto& d : domains) zones.insert("_domainkey." + d + ".");
  for (const auto& [owner, value] : keys) {
    const auto at = owner.find("._domainkey.");
    if (at != std::string::npos) zones.insert(owner.substr(at + 1) + ".");
    records.push_back(txt_record(owner, value));
  }
  KeyServer out;
  out.server = std::make_unique<UnboundServer>(std::vector<std::string>(zones.begin(), zones.end()),
                                               records);
  out.error = out.server->start();
  return out;
}

// The d= of every parsable signature in a message.
inline std::set<std::string> signing_domains(const std::string& message) {
  DkimMessageHasher h;
  h.feed(message);
  h.finish();
  std::set<std::string> out;
  for (const auto& s : h.signatures())
    if (s.signature) out.insert(s.signature->domain);
  return out;
}

// Verifies `message` fed in pieces of `piece` bytes, keys from `port`.
inline std::vector<DkimResult> verify_with_dns(const std::string& message, std::uint16_t port,
                                               std::optional<std::uint64_t> now = std::nullopt,
                                               std::size_t piece = 65536) {
  boost::asio::io_context ctx;
  gateway::DnsConfig config;
  config.servers = {"127.0.0.1"};
  config.port = port;
  config.timeout = std::chrono::milliseconds(1000);
  config.tries = 2;
  AresResolver resolver(ctx, config);
  DkimVerifyOptions options;
  options.now = now;
  DkimVerifier verifier(options);
  for (std::size_t i = 0; i < message.size(); i += piece)
    verifier.feed(std::string_view(message).substr(i, piece));
  std::optional<std::vector<DkimResult>> out;
  auto task = [&]() -> boost::asio::awaitable<void> {
    auto results = co_await verifier.finish(resolver);
    out = std::move(results);
  };
  boost::asio::co_spawn(ctx, task(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ctx.run_for(std::chrono::seconds(30));
  if (!out) ADD_FAILURE() << "DKIM verification never completed";
  return out.value_or(std::vector<DkimResult>{});
}

// The conformance vocabulary (shared/conformance/dkim/README.md).
inline std::string verdict_word(const DkimResult& r) {
  if (r.status == DkimStatus::pass) return "pass";
  switch (r.reason) {
    case DkimReason::body_hash: return "fail:bodyhash";
    case DkimReason::signature: return "fail:signature";
    case DkimReason::expired: return "fail:expired";
    case DkimReason::no_key: return "fail:nokey";
    case DkimReason::key_syntax:
    case DkimReason::key_revoked:
    case DkimReason::key_unsuitable:
    case DkimReason::key_too_small: return "fail:keyrecord";
    case DkimReason::rsa_sha1: return "policy:rsa-sha1";
    default: return std::string(to_string(r.status)) + ":" + std::string(to_string(r.reason));
  }
}

}  // namespace sluice::filters::testing
