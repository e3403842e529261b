#include "load-tests/loadgen/options.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace sluice::loadgen {

namespace {

constexpr const char* kUsage = R"(usage: sluice-loadgen --port PORT [options]
  --host ADDR            server address (default 127.0.0.1)
  --port PORT            server port
  --mode MODE            plain | pipelining | pipeconnect | bdat | idle | handshake (default plain);
                         handshake: connect, TLS, banner, QUIT, one per --messages
  --starttls             STARTTLS after EHLO (TLS through wolfSSL, certificate not checked)
  --tls                  implicit TLS (port 465 style): the handshake comes before the banner
  --tls-version V        1.2 or 1.3 only (default: the best both sides have)
  --tls-groups LIST      key-exchange groups, first = TLS 1.3 key share; names X25519, X448,
                         P-256, P-384, P-521 (default X25519:P-256:P-384:P-521, OpenSSL's order)
  --resume               offer the previous TLS session on the next connection
  --force-pipeconnect    pipeconnect mode: send early from the first connection on
  --connections N        concurrent connections; idle mode: connections to hold (default 10)
  --messages N           total messages, 0 = until --duration (default 1000)
  --duration SECS        run time cap; idle mode: hold time (default 60)
  --size BYTES           message size, headers included (default 1024)
  --recipients N         recipients per message (default 1)
  --per-connection N     messages per connection before QUIT (default 1)
  --chunk BYTES          bdat mode: chunk size, 0 = one BDAT LAST (default 0)
  --timeout SECS         per step: connect, each reply, each write (default 30)
  --helo NAME --from ADDR --rcpt-domain DOMAIN
  --source ADDR[/LEN]    connect from these local addresses (e.g. 127.0.0.0/8 for idle runs
                         beyond one address's ~28,000 ports per destination)
  --per-source N         connections per source address before the next one (default 20000)
  --connect-burst N      idle mode: connects in flight at once (default 500)
  --output FILE          JSON report (default stdout)
  --message-file FILE    send this message (as is, CRLF line ends) instead of a generated one
)";

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_seconds(const char* text, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end && *end == '\0' && out > 0;
}

bool parse_mode(std::string_view text, Mode& out) {
  for (Mode m : {Mode::plain, Mode::pipelining, Mode::pipeconnect, Mode::bdat, Mode::idle, Mode::handshake}) {
    if (text == mode_name(m)) {
      out = m;
      return true;
    }
  }
  return false;
}

}  // namespace

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::plain: return "plain";
    case Mode::pipelining: return "pipelining";
    case Mode::pipeconnect: return "pipeconnect";
    case Mode::bdat: return "bdat";
    case Mode::idle: return "idle";
    case Mode::handshake: return "handshake";
  }
  return "?";
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  bool have_port = false;
  auto fail = [](const char* what, const char* value) -> std::optional<Options> {
    std::fprintf(stderr, "sluice-loadgen: bad %s '%s'\n%s", what, value ? value : "", kUsage);
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg == "--starttls") { o.starttls = true; continue; }
    if (arg == "--tls") { o.implicit_tls = true; continue; }
    if (arg == "--resume") { o.resume = true; continue; }
    if (arg == "--force-pipeconnect") { o.force_pipeconnect = true; continue; }
    if (i + 1 >= argc) return fail("option (missing value)", argv[i]);
    const char* v = argv[++i];
    bool ok = true;
    if (arg == "--host") o.host = v;
    else if (arg == "--port") ok = (have_port = parse_number(v, o.port) && o.port != 0);
    else if (arg == "--mode") ok = parse_mode(v, o.mode);
    else if (arg == "--connections") ok = parse_number(v, o.connections) && o.connections > 0;
    else if (arg == "--messages") ok = parse_number(v, o.messages);
    else if (arg == "--duration") ok = parse_seconds(v, o.duration_s);
    else if (arg == "--size") ok = parse_number(v, o.size);
    else if (arg == "--recipients") ok = parse_number(v, o.recipients) && o.recipients > 0;
    else if (arg == "--per-connection") ok = parse_number(v, o.per_connection) && o.per_connection > 0;
    else if (arg == "--chunk") ok = parse_number(v, o.chunk);
    else if (arg == "--timeout") ok = parse_seconds(v, o.timeout_s);
    else if (arg == "--helo") o.helo = v;
    else if (arg == "--from") o.from = v;
    else if (arg == "--rcpt-domain") o.rcpt_domain = v;
    else if (arg == "--source") o.source = v;
    else if (arg == "--per-source") ok = parse_number(v, o.per_source) && o.per_source > 0;
    else if (arg == "--connect-burst") ok = parse_number(v, o.connect_burst) && o.connect_burst > 0;
    else if (arg == "--output") o.output = v;
    else if (arg == "--message-file") o.message_file = v;
    else if (arg == "--tls-groups") ok = !(o.tls_groups = v).empty();
    else if (arg == "--tls-version") ok = (o.tls_version = v) == "1.2" || o.tls_version == "1.3";
    else return fail("option", argv[i - 1]);
    if (!ok) return fail(argv[i - 1], v);
  }
  if (!have_port) return fail("option (--port is required)", "");
  if (o.starttls && o.implicit_tls) return fail("option (--starttls or --tls, not both)", "--tls");
  if (o.resume && !o.tls()) return fail("option (--resume needs --starttls or --tls)", "--resume");
  if (!o.tls_version.empty() && !o.tls()) return fail("option (--tls-version needs --starttls or --tls)", "--tls-version");
  if (o.mode == Mode::handshake && !o.tls()) return fail("option (--mode handshake needs --starttls or --tls)", "--mode");
  if (o.implicit_tls && (o.mode == Mode::idle || o.mode == Mode::pipeconnect))
    return fail("option (--tls works with plain, pipelining, bdat and handshake modes)", "--tls");
  return o;
}

}  // namespace sluice::loadgen
