// SmtpServer and TLS: STARTTLS replies (RFC 3207), the state reset after
// the handshake, EHLO keywords before and after, REQUIRETLS (RFC 8689) and
// the Received "with" clause.
#include <gtest/gtest.h>

#include <algorithm>

#include "protocol/smtp_server.hpp"
#include "protocol/smtp_server_test_support.hpp"

namespace sluice::protocol::testing {
namespace {

using Next = Step::Next;
using Lines = std::vector<std::string>;

bool has(const Lines& l, const std::string& k) { return std::count(l.begin(), l.end(), k) == 1; }

TEST_F(SmtpServerTest, StarttlsRefusedWhenNotOffered) {
  expect("EHLO client.example", 250, "");
  expect("STARTTLS", 502, "5.5.1");
}

TEST_F(SmtpServerTest, StarttlsOfferedListedAndStarted) {
  session_.starttls_offered = true;
  const Lines before = ehlo_lines();
  EXPECT_TRUE(has(before, "STARTTLS"));
  EXPECT_FALSE(has(before, "REQUIRETLS"));
  expect("STARTTLS extra", 501, "5.5.4");
  expect("STARTTLS", 220, "2.0.0", Next::starttls);
}

TEST_F(SmtpServerTest, StarttlsNeedsEhloAndNoTransaction) {
  session_.starttls_offered = true;
  expect("STARTTLS", 503, "5.5.1");
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<a@example.org>", 250, "2.1.0");
  expect("STARTTLS", 503, "5.5.1");
}

TEST_F(SmtpServerTest, TlsStartedForgetsEhloAndEnvelope) {
  session_.starttls_offered = true;
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<a@example.org>", 250, "2.1.0");
  expect("RSET", 250, "2.0.0");
  expect("STARTTLS", 220, "2.0.0", Next::starttls);
  server_->tls_started("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  EXPECT_FALSE(session_.greeted);
  EXPECT_TRUE(session_.helo.empty());
  EXPECT_FALSE(tx_.active);
  expect("MAIL FROM:<a@example.org>", 503, "5.5.1");  // EHLO again first (RFC 3207 4.2)
  const Lines after = ehlo_lines();
  EXPECT_FALSE(has(after, "STARTTLS"));
  EXPECT_TRUE(has(after, "REQUIRETLS"));
  expect("STARTTLS", 503, "5.5.1");
  EXPECT_EQ(session_.protocol_name(false), "esmtps");
  EXPECT_EQ(session_.protocol_name(true), "utf8esmtps");
}

TEST_F(SmtpServerTest, RequiretlsOnlyOverTls) {
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<a@example.org> REQUIRETLS", 530, "5.7.10");
  EXPECT_FALSE(tx_.active);
  session_.tls = true;
  expect("MAIL FROM:<a@example.org> REQUIRETLS", 250, "2.1.0");
  EXPECT_TRUE(tx_.params.requiretls);
}

TEST_F(SmtpServerTest, ReceivedSaysEsmtpsWithVersionCipherAndRequiretls) {
  session_.tls = true;
  session_.tls_version = "TLSv1.2";
  session_.tls_cipher = "ECDHE-RSA-AES128-GCM-SHA256*";
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<a@example.org> REQUIRETLS", 250, "2.1.0");
  expect("RCPT TO:<b@example.net>", 250, "2.1.5");
  const std::string h = server_->received_header(0);
  EXPECT_NE(h.find("with ESMTPS (TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256* REQUIRETLS)"), std::string::npos) << h;
}

}  // namespace
}  // namespace sluice::protocol::testing
