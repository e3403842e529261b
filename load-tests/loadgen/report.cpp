#include "load-tests/loadgen/report.hpp"

#include <cstdio>
#include <string_view>

namespace sluice::loadgen {

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string distribution(const Latency& l) {
  auto ms = [&](double us) { return number(us / 1000.0); };
  return "{\"count\": " + std::to_string(l.count()) + ", \"p50\": " + ms(l.percentile_us(0.50)) +
         ", \"p90\": " + ms(l.percentile_us(0.90)) + ", \"p99\": " + ms(l.percentile_us(0.99)) +
         ", \"max\": " + ms(l.max_us()) + ", \"mean\": " + ms(l.mean_us()) + "}";
}

}  // namespace

std::string to_json(const Options& o, const Stats& s, double elapsed_s) {
  std::string j = "{\n";
  auto field = [&](std::string_view key, const std::string& value) {
    j += "  " + quoted(key) + ": " + value + ",\n";
  };
  field("mode", quoted(mode_name(o.mode)));
  field("target", quoted(o.host + ":" + std::to_string(o.port)));
  field("options",
        "{\"connections\": " + std::to_string(o.connections) + ", \"messages\": " + std::to_string(o.messages) +
            ", \"duration_s\": " + number(o.duration_s) + ", \"size\": " + std::to_string(o.size) +
            ", \"recipients\": " + std::to_string(o.recipients) +
            ", \"per_connection\": " + std::to_string(o.per_connection) + ", \"chunk\": " + std::to_string(o.chunk) +
            ", \"starttls\": " + (o.starttls ? "true" : "false") + ", \"resume\": " + (o.resume ? "true" : "false") +
            ", \"implicit_tls\": " + (o.implicit_tls ? "true" : "false") + ", \"tls_version\": " + quoted(o.tls_version) +
            ", \"tls_groups\": " + quoted(o.tls_groups) +
            ", \"force_pipeconnect\": " + (o.force_pipeconnect ? "true" : "false") +
            ", \"source\": " + quoted(o.source) + "}");
  field("elapsed_s", number(elapsed_s));
  field("connections_opened", std::to_string(s.connections_opened));
  field("messages_sent", std::to_string(s.messages_sent));
  field("messages_acknowledged", std::to_string(s.messages_acknowledged));
  field("messages_per_s", number(elapsed_s > 0 ? s.messages_acknowledged / elapsed_s : 0));
  std::string errors = "{";
  std::uint64_t total = 0;
  for (const auto& [kind, n] : s.errors) {
    errors += (errors.size() > 1 ? ", " : "") + quoted(kind) + ": " + std::to_string(n);
    total += n;
  }
  field("errors", errors + "}");
  field("errors_total", std::to_string(total));
  field("latency_ms", "{\n    \"transaction\": " + distribution(s.transaction) +
                          ",\n    \"data_end_to_250\": " + distribution(s.data_end) +
                          ",\n    \"connect_to_banner\": " + distribution(s.connect_banner) +
                          ",\n    \"tls_handshake\": " + distribution(s.tls_handshake) +
                          ",\n    \"ehlo\": " + distribution(s.ehlo) + "}");
  field("tls", "{\"handshakes\": " + std::to_string(s.tls_handshakes) + ", \"offered\": " +
                   std::to_string(s.tls_offered) + ", \"resumed\": " + std::to_string(s.tls_resumed) +
                   ", \"sessions_completed\": " + std::to_string(s.sessions_completed) + ", \"handshakes_per_s\": " +
                   number(elapsed_s > 0 ? s.tls_handshakes / elapsed_s : 0) + "}");
  field("pipeconnect", std::string("{\"advertised\": ") + (s.pipeconnect_advertised ? "true" : "false") +
                           ", \"early_sessions\": " + std::to_string(s.early_sessions) + "}");
  field("idle", "{\"established\": " + std::to_string(s.idle_established) + ", \"held_at_end\": " +
                    std::to_string(s.idle_held_at_end) + ", \"closed_by_server\": " +
                    std::to_string(s.idle_closed_by_server) + ", \"open_all_s\": " + number(s.idle_open_all_s) + "}");
  j += "  \"fd_soft_limit\": " + std::to_string(s.fd_soft_limit) + "\n}\n";
  return j;
}

}  // namespace sluice::loadgen
