// sluice-loadgen — an SMTP load generator for Sluice's load tests: plain,
// PIPELINING, PIPECONNECT and BDAT transactions, optionally over STARTTLS or
// implicit TLS with session resumption, a TLS handshake mode and an
// idle-connection mode. One thread; bounded
// by --messages and --duration; prints one JSON report. See
// load-tests/README.md.
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>
#include <fstream>
#include <iostream>

#include "load-tests/loadgen/idle_sessions.hpp"
#include "load-tests/loadgen/mail_session.hpp"
#include "load-tests/loadgen/run_context.hpp"

namespace asio = boost::asio;
using namespace sluice::loadgen;
using clock_type = std::chrono::steady_clock;

namespace {

// The hard limit is what this machine allows (20,000 here); a run that needs
// more descriptors than that must be split over processes.
std::uint64_t raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

void warn_if_too_many(const Options& o, std::uint64_t limit) {
  const std::uint64_t need = o.connections + 32;
  if (limit == 0 || need <= limit) return;
  std::uint64_t per = limit - 32, processes = (o.connections + per - 1) / per;
  std::fprintf(stderr,
               "sluice-loadgen: %u connections need ~%llu descriptors, the limit is %llu: connects beyond it "
               "will fail. Split the run: %llu processes with --connections %llu each (they may share one "
               "--source range: connect() picks ports per source and destination).\n",
               o.connections, static_cast<unsigned long long>(need), static_cast<unsigned long long>(limit),
               static_cast<unsigned long long>(processes),
               static_cast<unsigned long long>((o.connections + processes - 1) / processes));
}

// "X25519:P-256" -> wolfSSL's group ids, in order (its own list parser in
// 5.5 knows only the NIST curves).
bool set_groups(WOLFSSL_CTX* ctx, const std::string& list) {
  static const std::pair<std::string_view, int> kNames[] = {
      {"X25519", WOLFSSL_ECC_X25519}, {"X448", WOLFSSL_ECC_X448},         {"P-256", WOLFSSL_ECC_SECP256R1},
      {"P-384", WOLFSSL_ECC_SECP384R1}, {"P-521", WOLFSSL_ECC_SECP521R1}};
  std::vector<int> groups;
  std::string_view rest = list;
  while (!rest.empty()) {
    auto colon = rest.find(':');
    std::string_view name = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    auto it = std::find_if(std::begin(kNames), std::end(kNames), [&](const auto& n) { return n.first == name; });
    if (it == std::end(kNames)) return false;
    groups.push_back(it->second);
  }
  return !groups.empty() &&
         wolfSSL_CTX_set_groups(ctx, groups.data(), static_cast<int>(groups.size())) == WOLFSSL_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed) return 2;
  const Options& options = *parsed;
  Stats stats;
  stats.fd_soft_limit = raise_fd_limit();
  warn_if_too_many(options, stats.fd_soft_limit);

  asio::io_context ioc(1);
  const MessageTemplate message = build_message(options);
  RunContext ctx(options, message, stats);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    std::fprintf(stderr, "sluice-loadgen: --host must be an IP address, not '%s'\n", options.host.c_str());
    return 2;
  }
  ctx.target = asio::ip::tcp::endpoint(address, options.port);
  std::string error;
  auto sources = SourceAddresses::parse(options.source, options.per_source, error);
  if (!sources) {
    std::fprintf(stderr, "sluice-loadgen: %s\n", error.c_str());
    return 2;
  }
  ctx.sources = *sources;

  asio::ssl::context tls(asio::ssl::context::tls_client);
  if (options.tls()) {
    // A load generator measures, it does not authenticate: test servers use
    // self-signed certificates.
    tls.set_verify_mode(asio::ssl::verify_none);
    if (!set_groups(tls.native_handle(), options.tls_groups)) {
      std::fprintf(stderr, "sluice-loadgen: --tls-groups '%s' not known to wolfSSL\n", options.tls_groups.c_str());
      return 2;
    }
    if (!options.tls_version.empty()) {
      const int version = options.tls_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
      SSL_CTX_set_min_proto_version(tls.native_handle(), version);
      SSL_CTX_set_max_proto_version(tls.native_handle(), version);
    }
#ifdef HAVE_SESSION_TICKET
    wolfSSL_CTX_UseSessionTicket(tls.native_handle());  // TLS 1.2 tickets (TLS 1.3 PSK needs nothing)
#endif
    ctx.tls = &tls;
  }

  const auto run_time = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(options.duration_s));
  const auto start = clock_type::now();
  ctx.end = start + run_time;
  ctx.last_done = start;
  // A hard stop: no transaction starts after --duration, and those in flight
  // get one step timeout to finish. Idle mode: the hold, plus the connect
  // phase at its slowest (every batch of --connect-burst connects taking a
  // whole step timeout for each of its three steps), plus a margin.
  asio::steady_timer hard_stop(ioc);
  const auto grace = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(options.timeout_s));
  const auto batches = (options.connections + options.connect_burst - 1) / options.connect_burst;
  hard_stop.expires_after(options.mode == Mode::idle ? run_time + 3 * batches * grace + std::chrono::seconds(5)
                                                     : run_time + grace);
  hard_stop.async_wait([&](const boost::system::error_code& e) {
    if (!e) {
      stats.error("stopped_in_flight");
      ioc.stop();
    }
  });
  // When the last worker ends, so does the run (the timer was all that was left).
  unsigned running = 0;
  auto worker_done = [&](std::exception_ptr) {
    if (--running == 0) hard_stop.cancel();
  };
  if (options.mode == Mode::idle) {
    ctx.end = clock_type::time_point::max();
    running = 1;
    asio::co_spawn(ioc, run_idle(ctx), worker_done);
  } else {
    running = options.connections;
    for (unsigned i = 0; i < options.connections; ++i) asio::co_spawn(ioc, mail_worker(ctx), worker_done);
  }
  ioc.run();
  double elapsed = std::chrono::duration<double>((options.mode == Mode::idle ? clock_type::now() : ctx.last_done) - start).count();

  const std::string json = to_json(options, stats, elapsed);
  if (options.output.empty()) {
    std::cout << json;
  } else {
    std::ofstream(options.output) << json;
  }
  return 0;
}
