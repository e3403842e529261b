#include "gateway/config_tls.hpp"

namespace sluice::gateway {

namespace {

bool is_file_path(std::string_view s) { return !s.empty() && s.find('\0') == std::string_view::npos; }
// An optional file: "" (the documented default) means none.
bool is_file_path_or_none(std::string_view s) { return s.empty() || is_file_path(s); }
bool is_optional_path(std::string_view s) { return s.find('\0') == std::string_view::npos; }
bool is_tls_version(std::string_view s) { return s == "1.2" || s == "1.3"; }
bool is_cipher_list(std::string_view s) {
  if (s.empty() || s.size() > 2000) return false;
  for (char c : s)
    if (c <= ' ' || c > '~') return false;
  return true;
}

void read_certificates(TableReader& owner, std::string_view key, std::vector<TlsCertificateConfig>& out) {
  const toml::array* arr = owner.array_of_tables(key);
  if (!arr) return;
  std::vector<TlsCertificateConfig> certs;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table& t = *arr->get(i)->as_table();
    TableReader r(t, owner.name(key) + "[" + std::to_string(i) + "]", "[[" + owner.name(key) + "]]", owner.sink());
    TlsCertificateConfig c;
    r.string("cert", is_file_path, "a file path", c.cert);
    r.string("key", is_file_path, "a file path", c.key);
    r.domains("names", c.names);
    r.string("ocsp", is_file_path_or_none, "a file path (\"\": none)", c.ocsp);
    r.finish();
    if (c.cert.empty()) r.problem(t, "cert", "is needed (a PEM certificate chain file)");
    if (c.key.empty()) r.problem(t, "key", "is needed (a PEM private key file)");
    certs.push_back(std::move(c));
  }
  out = std::move(certs);
}

}  // namespace

void read_tls(TableReader& r, TlsConfig& tls) {
  r.string("client_ca_file", tls.client_ca_file);
  r.domains("client_cert_relay_names", tls.client_cert_relay_names);
  read_certificates(r, "certificate", tls.certificates);
  r.string("min_version", is_tls_version, "\"1.2\" or \"1.3\"", tls.min_version);
  r.string("ciphers", is_cipher_list, "a cipher list (names separated by ':')", tls.ciphers);
  r.duration("handshake_timeout", tls.handshake_timeout, std::chrono::seconds(600));
  r.integer("max_handshakes_per_worker", 1, 100000, tls.max_handshakes_per_worker);
  r.boolean("session_tickets", tls.session_tickets);
  r.duration("ticket_key_rotation", tls.ticket_key_rotation, std::chrono::seconds(7 * 86400));
  r.duration("ticket_lifetime", tls.ticket_lifetime, std::chrono::seconds(7 * 86400));  // RFC 8446 4.6.1: at most 7 days
  r.string("ticket_key_file", is_optional_path, "a file or directory path (\"\": keys in memory)",
           tls.ticket_key_file);
  r.duration("reload_check_interval", tls.reload_check_interval, std::chrono::seconds(3600));
  r.boolean("log_protocol_details", tls.log_protocol_details);
  r.choice("rsa_signing", {{"libcrypto", Signer::libcrypto}, {"wolfssl", Signer::wolfssl}}, tls.rsa_signing);
  r.choice("ecdsa_signing", {{"libcrypto", Signer::libcrypto}, {"wolfssl", Signer::wolfssl}}, tls.ecdsa_signing);
  r.finish();
  if (tls.ticket_key_rotation.count() < 60)
    r.problem(r.toml_table(), "ticket_key_rotation", "must be at least 1m");
  if (tls.ticket_lifetime < tls.ticket_key_rotation)
    r.problem(r.toml_table(), "ticket_lifetime", "must be at least ticket_key_rotation");
  if (tls.reload_check_interval.count() < 1)
    r.problem(r.toml_table(), "reload_check_interval", "must be at least 1s");
}

void read_listener_tls(TableReader& r, ListenerConfig& l) {
  r.choice("tls", {{"off", TlsMode::off}, {"starttls", TlsMode::starttls}, {"implicit", TlsMode::implicit}}, l.tls);
  read_certificates(r, "tls_certificate", l.tls_certificates);
}

void check_listeners_tls(const std::vector<ListenerConfig>& ls, const TlsConfig& tls, ProblemSink& sink) {
  for (const auto& l : ls)
    if (l.tls != TlsMode::off && l.tls_certificates.empty() && tls.certificates.empty())
      sink.add_without_position("listener " + l.name +
                                ": tls is on but there is no certificate; add [[tls.certificate]] or "
                                "[[listener.tls_certificate]]");
}

}  // namespace sluice::gateway
