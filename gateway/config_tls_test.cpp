// The TLS keys of the configuration: [tls], [[tls.certificate]], and the
// listener's tls and [[listener.tls_certificate]].
#include <gtest/gtest.h>

#include "gateway/config_loader.hpp"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;

std::string problems(const ConfigLoad& l) {
  std::string out;
  for (const auto& p : l.problems) out += p.to_string() + "\n";
  return out;
}

TEST(ConfigTls, DefaultsAreOffAndSafe) {
  const Config c;
  EXPECT_EQ(c.listeners.at(0).tls, TlsMode::off);
  EXPECT_EQ(c.tls.min_version, "1.2");
  EXPECT_EQ(c.tls.ticket_key_rotation, 3600s);
  EXPECT_EQ(c.tls.ticket_lifetime, 7200s);
  EXPECT_TRUE(c.tls.ticket_key_file.empty());
  EXPECT_EQ(c.tls.ciphers.find("CBC"), std::string::npos);  // AEAD only
  EXPECT_EQ(c.tls.rsa_signing, Signer::libcrypto);
  EXPECT_EQ(c.tls.ecdsa_signing, Signer::libcrypto);
}

TEST(ConfigTls, EveryKeyIsParsed) {
  const ConfigLoad l = load_config_text(R"(
[[listener]]
name = "mx"
port = 25
tls = "starttls"
[[listener]]
name = "smtps"
port = 465
tls = "implicit"
[[listener.tls_certificate]]
cert = "/etc/own.pem"
key = "/etc/own.key"
[tls]
min_version = "1.3"
ciphers = "TLS13-AES256-GCM-SHA384"
handshake_timeout = "20s"
max_handshakes_per_worker = 8
session_tickets = false
ticket_key_rotation = "30m"
ticket_lifetime = "1h"
ticket_key_file = "/run/secrets/tickets"
reload_check_interval = "10s"
log_protocol_details = true
rsa_signing = "wolfssl"
ecdsa_signing = "wolfssl"
[[tls.certificate]]
cert = "/etc/rsa.pem"
key = "/etc/rsa.key"
names = ["mx.example.org", "MX2.example.org"]
ocsp = "/etc/rsa.ocsp"
[[tls.certificate]]
cert = "/etc/ec.pem"
key = "/etc/ec.key"
)", "t.toml");
  ASSERT_TRUE(l.config) << problems(l);
  const Config& c = *l.config;
  EXPECT_EQ(c.listeners[0].tls, TlsMode::starttls);
  EXPECT_EQ(c.listeners[1].tls, TlsMode::implicit);
  ASSERT_EQ(c.listeners[1].tls_certificates.size(), 1u);
  EXPECT_EQ(c.listeners[1].tls_certificates[0].cert, "/etc/own.pem");
  ASSERT_EQ(c.tls.certificates.size(), 2u);
  EXPECT_EQ(c.tls.certificates[0].names, (std::vector<std::string>{"mx.example.org", "mx2.example.org"}));
  EXPECT_EQ(c.tls.certificates[0].ocsp, "/etc/rsa.ocsp");
  EXPECT_EQ(c.tls.min_version, "1.3");
  EXPECT_EQ(c.tls.handshake_timeout, 20s);
  EXPECT_EQ(c.tls.max_handshakes_per_worker, 8u);
  EXPECT_FALSE(c.tls.session_tickets);
  EXPECT_EQ(c.tls.ticket_key_rotation, 1800s);
  EXPECT_EQ(c.tls.ticket_lifetime, 3600s);
  EXPECT_EQ(c.tls.ticket_key_file, "/run/secrets/tickets");
  EXPECT_EQ(c.tls.reload_check_interval, 10s);
  EXPECT_TRUE(c.tls.log_protocol_details);
  EXPECT_EQ(c.tls.rsa_signing, Signer::wolfssl);
  EXPECT_EQ(c.tls.ecdsa_signing, Signer::wolfssl);
}

TEST(ConfigTls, ProblemsAreReported) {
  auto one = [](std::string_view text, std::string_view want) {
    const ConfigLoad l = load_config_text(text, "t.toml");
    EXPECT_EQ(l.config, nullptr) << text;
    EXPECT_NE(problems(l).find(want), std::string::npos) << problems(l);
  };
  one("[[listener]]\ntls = \"starttls\"\n", "no certificate");
  one("[[listener]]\ntls = \"yes\"\n", "is not one of");
  one("[tls]\nmin_version = \"1.1\"\n", "\"1.2\" or \"1.3\"");
  one("[tls]\nrsa_signing = \"openssl\"\n", "is not one of \"libcrypto\", \"wolfssl\"");
  one("[tls]\necdsa_signing = \"openssl\"\n", "is not one of \"libcrypto\", \"wolfssl\"");
  one("[[tls.certificate]]\ncert = \"/a\"\n", "key: is needed");
  one("[[tls.certificate]]\ncert = \"/a\"\nkey = \"/b\"\nkeyfile = \"/c\"\n", "unknown key");
  one("[tls]\nticket_lifetime = \"10m\"\n", "at least ticket_key_rotation");
  one("[tls]\nticket_key_rotation = \"10s\"\nticket_lifetime = \"10s\"\n", "at least 1m");
  one("[[tls.certificate]]\ncert = \"\"\nkey = \"/b\"\n", "cert: \"\" is not a file path");
}

TEST(ConfigTls, AnEmptyOcspIsTheDocumentedNone) {
  const ConfigLoad l = load_config_text("[[tls.certificate]]\ncert = \"/a\"\nkey = \"/b\"\nocsp = \"\"\n", "t.toml");
  ASSERT_NE(l.config, nullptr) << problems(l);
  EXPECT_EQ(l.config->tls.certificates.at(0).ocsp, "");
}

}  // namespace
}  // namespace sluice::gateway
