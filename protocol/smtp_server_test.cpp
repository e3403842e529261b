// SmtpServer, the sans-I/O state machine: greeting, EHLO keywords, sequencing,
// MAIL, RCPT and relay control, DATA, the simple verbs, the bad-command limit,
// the Received header and the final verdict. BDAT and XCLIENT are in
// smtp_server_session_test.cpp.
#include "protocol/smtp_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/smtp_server_test_support.hpp"
#include "protocol/xclient.hpp"
#include "storage/message_id.hpp"

namespace sluice::protocol::testing {
namespace {

using Next = Step::Next;
using Lines = std::vector<std::string>;

TEST_F(SmtpServerTest, GreetingIsHostnameAndBannerWithoutEnhancedCode) {
  const Reply r = server_->greeting();
  EXPECT_EQ(r.code, 220);
  EXPECT_EQ(r.enhanced, "");
  EXPECT_EQ(r.lines, Lines{"mx.example.net ESMTP Sluice"});
}

// --- EHLO / HELO ---------------------------------------------------------

TEST_F(SmtpServerTest, EhloListsEveryDefaultKeywordInOrder) {
  const Step st = expect("EHLO client.example", 250, "");
  EXPECT_EQ(st.reply.lines, (Lines{"mx.example.net Hello client.example [192.0.2.1]", "SIZE 52428800",
                                   "8BITMIME", "PIPELINING", "PIPECONNECT", "CHUNKING", "SMTPUTF8", "DSN",
                                   "ENHANCEDSTATUSCODES", "HELP"}));
  EXPECT_TRUE(session_.greeted);
  EXPECT_TRUE(session_.esmtp);
  EXPECT_EQ(session_.helo, "client.example");
  EXPECT_TRUE(session_.pipeconnect_advertised);
}

TEST_F(SmtpServerTest, EhloKeywordsFollowTheConfig) {
  cfg_.smtp.eight_bit_mime = cfg_.smtp.chunking = cfg_.smtp.smtputf8 = cfg_.smtp.dsn = false;
  cfg_.limits.max_message_size = 1000;
  connect();
  EXPECT_EQ(ehlo_lines(), (Lines{"mx.example.net Hello client.example [192.0.2.1]", "SIZE 1000",
                                      "PIPELINING", "PIPECONNECT", "ENHANCEDSTATUSCODES", "HELP"}));
}

TEST_F(SmtpServerTest, PipeconnectNeedsPipeliningAndAnAllowedPeer) {
  cfg_.smtp.pipelining = false;
  connect();
  Lines l = ehlo_lines();
  EXPECT_EQ(std::count(l.begin(), l.end(), "PIPELINING"), 0);
  EXPECT_EQ(std::count(l.begin(), l.end(), "PIPECONNECT"), 0);
  EXPECT_FALSE(session_.pipeconnect_allowed);
  EXPECT_FALSE(session_.pipeconnect_advertised);

  cfg_.smtp.pipelining = true;
  cfg_.smtp.pipeconnect_hosts = gateway::NetworkList{};
  ASSERT_TRUE(cfg_.smtp.pipeconnect_hosts.add("198.51.100.0/24"));
  connect();
  l = ehlo_lines();
  EXPECT_EQ(std::count(l.begin(), l.end(), "PIPECONNECT"), 0);
  EXPECT_FALSE(session_.pipeconnect_advertised);

  connect("198.51.100.9");
  l = ehlo_lines();
  auto it = std::find(l.begin(), l.end(), "PIPELINING");
  ASSERT_NE(it, l.end());
  ASSERT_NE(it + 1, l.end());
  EXPECT_EQ(*(it + 1), "PIPECONNECT");  // right after PIPELINING, as Exim
}

TEST_F(SmtpServerTest, PipeconnectKeywordIsConfigurable) {
  cfg_.smtp.pipeconnect_keyword = "X_PIPE_CONNECT";
  connect();
  const Lines l = ehlo_lines();
  EXPECT_EQ(l[4], "X_PIPE_CONNECT");
  EXPECT_EQ(std::count(l.begin(), l.end(), "PIPECONNECT"), 0);
}

TEST_F(SmtpServerTest, PipeconnectIsJudgedOnTheRealPeerNotTheClient) {
  cfg_.smtp.pipeconnect_hosts = gateway::NetworkList{};
  ASSERT_TRUE(cfg_.smtp.pipeconnect_hosts.add("198.51.100.9"));
  connect("203.0.113.1");
  session_.client.addr = "198.51.100.9";  // as a PROXY header would set it
  server_->evaluate_permissions();
  EXPECT_FALSE(session_.pipeconnect_allowed);
  connect("198.51.100.9");
  session_.client.addr = "203.0.113.1";
  server_->evaluate_permissions();
  EXPECT_TRUE(session_.pipeconnect_allowed);
}

TEST_F(SmtpServerTest, XclientKeywordOnlyForAllowedHostsAndListsWhatTheParserAccepts) {
  Lines l = ehlo_lines();
  for (const auto& line : l) EXPECT_NE(line.rfind("XCLIENT", 0), 0u) << line;
  connect(kFrontEnd);
  l = ehlo_lines();
  ASSERT_GE(l.size(), 3u);
  EXPECT_EQ(l[l.size() - 2], "XCLIENT " + std::string(kXclientAttributeNames));
  EXPECT_EQ(l.back(), "HELP");
}

TEST_F(SmtpServerTest, HeloRepliesOneLineAndIsNotEsmtp) {
  const Step st = expect("HELO client.example", 250, "");
  EXPECT_EQ(st.reply.lines, Lines{"mx.example.net Hello client.example [192.0.2.1]"});
  EXPECT_TRUE(session_.greeted);
  EXPECT_FALSE(session_.esmtp);
  EXPECT_FALSE(session_.pipeconnect_advertised);
}

TEST_F(SmtpServerTest, HeloArgumentMustBeOnePrintableToken) {
  expect("EHLO", 501, "5.5.4");
  expect("HELO", 501, "5.5.4");
  expect("EHLO two words", 501, "5.5.4");
  expect("EHLO " + std::string(256, 'a'), 501, "5.5.4");
  EXPECT_FALSE(session_.greeted);
  EXPECT_EQ(session_.bad_commands, 4u);
  expect("EHLO " + std::string(255, 'a'), 250, "");
  expect("ehlo [192.0.2.1]", 250, "");
}

TEST_F(SmtpServerTest, EhloResetsTheTransaction) {
  open_transaction();
  expect("EHLO again.example", 250, "");
  EXPECT_FALSE(tx_.active);
  EXPECT_TRUE(tx_.recipients.empty());
  expect("RCPT TO:<bob@example.net>", 503, "5.5.1");
}

// --- MAIL ------------------------------------------------------------------

TEST_F(SmtpServerTest, MailSequenceAndSyntax) {
  expect("MAIL FROM:<a@sender.example>", 503, "5.5.1");  // before EHLO
  expect("EHLO client.example", 250, "");
  expect("MAIL <a@sender.example>", 501, "5.5.4");
  expect("MAIL TO:<a@sender.example>", 501, "5.5.4");
  expect("MAIL FROM:a@sender.example", 501, "5.5.4");
  expect("MAIL FROM:<a@>", 501, "5.1.7");
  EXPECT_FALSE(tx_.active);
  expect("mail from:<A@Sender.Example>", 250, "2.1.0");
  EXPECT_TRUE(tx_.active);
  EXPECT_EQ(tx_.sender.str(), "A@sender.example");
  expect("MAIL FROM:<b@sender.example>", 503, "5.5.1");  // nested
  EXPECT_EQ(tx_.sender.str(), "A@sender.example");
}

TEST_F(SmtpServerTest, NullSender) {
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<>", 250, "2.1.0");
  EXPECT_TRUE(tx_.null_sender);
  EXPECT_EQ(tx_.sender.str(), "");
}

TEST_F(SmtpServerTest, MailParametersNeedEhloAndMatchTheConfig) {
  expect("HELO client.example", 250, "");
  expect("MAIL FROM:<a@sender.example> SIZE=10", 555, "5.5.4");
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  expect("RCPT TO:<bob@example.net> NOTIFY=NEVER", 555, "5.5.4");  // RCPT's too
  EXPECT_TRUE(tx_.recipients.empty());
  expect("RCPT TO:<bob@example.net>", 250, "2.1.5");
  expect("RSET", 250, "2.0.0");

  cfg_.smtp.chunking = false;
  cfg_.smtp.dsn = false;
  connect();
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<a@sender.example> BODY=BINARYMIME", 555, "5.5.4");
  expect("MAIL FROM:<a@sender.example> RET=HDRS", 555, "5.5.4");
  expect("MAIL FROM:<a@sender.example> BODY=8BITMIME SIZE=100", 250, "2.1.0");
  EXPECT_EQ(tx_.params.body, MailParams::Body::eightbitmime);
  EXPECT_EQ(tx_.params.size, 100u);
}

TEST_F(SmtpServerTest, DeclaredSizeOverTheLimitIsRefusedAtMail) {
  cfg_.limits.max_message_size = 1000;
  connect();
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<a@sender.example> SIZE=1001", 552, "5.3.4");
  EXPECT_FALSE(tx_.active);
  expect("MAIL FROM:<a@sender.example> SIZE=1000", 250, "2.1.0");
}

TEST_F(SmtpServerTest, Utf8SenderNeedsTheSmtputf8Parameter) {
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<pel\xc3\xa9@example.org>", 550, "5.6.7");
  expect("MAIL FROM:<pel\xc3\xa9@example.org> SMTPUTF8", 250, "2.1.0");
  EXPECT_TRUE(tx_.params.smtputf8);
  // ...and then UTF-8 recipients are fine.
  expect("RCPT TO:<j\xc3\xb8rn@example.net>", 250, "2.1.5");

  connect();  // after HELO there is no SMTPUTF8 at all
  expect("HELO client.example", 250, "");
  expect("MAIL FROM:<pel\xc3\xa9@example.org>", 550, "5.6.7");
}

TEST_F(SmtpServerTest, Utf8RecipientWithoutSmtputf8Is553) {
  open_transaction();
  expect("RCPT TO:<j\xc3\xb8rn@example.net>", 553, "5.6.7");
}

// --- RCPT and relay control -------------------------------------------------

TEST_F(SmtpServerTest, RcptSequenceAndSyntax) {
  expect("RCPT TO:<bob@example.net>", 503, "5.5.1");
  expect("EHLO client.example", 250, "");
  expect("RCPT TO:<bob@example.net>", 503, "5.5.1");
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  expect("RCPT <bob@example.net>", 501, "5.5.4");
  expect("RCPT TO:<>", 501, "5.1.3");
  expect("RCPT TO:<bob@example.net> NOTIFY=BOGUS", 501, "5.5.4");
  expect("RCPT TO:<bob@example.net> FOO=1", 555, "5.5.4");
  EXPECT_TRUE(tx_.recipients.empty());
  expect("rcpt to:<bob@example.net> NOTIFY=SUCCESS,FAILURE", 250, "2.1.5");
  ASSERT_EQ(tx_.recipients.size(), 1u);
  EXPECT_EQ(tx_.recipients[0].params.notify, kNotifySuccess | kNotifyFailure);
}

TEST_F(SmtpServerTest, OurDomainsAreAcceptedFromAnyone) {
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  for (const char* rcpt : {"<bob@example.net>", "<bob@EXAMPLE.NET>", "<bob@mx.example.net>",
                           "<bob@relay.example>", "<Postmaster>", "<postmaster>"})
    expect(std::string("RCPT TO:") + rcpt, 250, "2.1.5");
  EXPECT_EQ(tx_.recipients.size(), 6u);
  EXPECT_EQ(session_.bad_commands, 0u);
}

TEST_F(SmtpServerTest, ForeignDomainsOnlyFromTrustedNetworks) {
  open_transaction();
  const Step st = expect("RCPT TO:<victim@elsewhere.example>", 550, "5.7.1");
  EXPECT_EQ(st.reply.text(), "Relay access denied");
  expect("RCPT TO:<bob@sub.example.net>", 550, "5.7.1");   // no implicit subdomains
  expect("RCPT TO:<bob@[192.0.2.99]>", 550, "5.7.1");       // nor address literals
  expect("RCPT TO:<postmaster@elsewhere.example>", 550, "5.7.1");
  EXPECT_EQ(tx_.recipients.size(), 1u);

  connect(kLoopback);
  open_transaction();
  expect("RCPT TO:<victim@elsewhere.example>", 250, "2.1.5");
  connect("::1");
  open_transaction();
  expect("RCPT TO:<victim@elsewhere.example>", 250, "2.1.5");
}

TEST_F(SmtpServerTest, RoutingTricksAreRefusedEvenForTrustedClients) {
  for (std::string_view peer : {kOutsider, kLoopback}) {
    connect(peer);
    open_transaction();
    for (const char* rcpt : {"<user%elsewhere.example@example.net>", "<elsewhere.example!user@example.net>",
                             "<@example.net:user@elsewhere.example>", "<@a.example,@b.example:user@example.net>",
                             "<\"user@elsewhere.example\"@example.net>", "<\"user%elsewhere\"@example.net>"}) {
      const Step st = expect(std::string("RCPT TO:") + rcpt, 550, "5.7.1");
      EXPECT_NE(st.reply.text().find("routing"), std::string_view::npos) << rcpt;
    }
    EXPECT_EQ(tx_.recipients.size(), 1u) << peer;
  }
}

TEST_F(SmtpServerTest, TooManyRecipientsIs452AndNotABadCommand) {
  cfg_.limits.max_recipients = 3;
  cfg_.limits.max_bad_commands = 1;
  connect();
  open_transaction();
  expect("RCPT TO:<b2@example.net>", 250, "2.1.5");
  expect("RCPT TO:<b3@example.net>", 250, "2.1.5");
  for (int i = 0; i < 5; ++i) expect("RCPT TO:<b4@example.net>", 452, "4.5.3");
  EXPECT_EQ(tx_.recipients.size(), 3u);
  EXPECT_EQ(session_.bad_commands, 0u);
  expect("DATA", 354, "", Next::data);
}

// --- DATA -------------------------------------------------------------------

TEST_F(SmtpServerTest, DataSequence) {
  expect("DATA", 503, "5.5.1");
  expect("EHLO client.example", 250, "");
  expect("DATA", 503, "5.5.1");
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  expect("DATA", 554, "5.5.1");
  expect("RCPT TO:<bob@example.net>", 250, "2.1.5");
  expect("DATA now", 501, "5.5.4");
  EXPECT_TRUE(tx_.id.empty());
  const Step st = expect("data", 354, "", Next::data);
  EXPECT_EQ(st.reply.text(), "End data with <CR><LF>.<CR><LF>");
  EXPECT_TRUE(storage::is_valid_message_id(tx_.id)) << tx_.id;
}

TEST_F(SmtpServerTest, BinarymimeNeedsBdat) {
  open_transaction("MAIL FROM:<a@sender.example> BODY=BINARYMIME");
  expect("DATA", 503, "5.5.1");
  EXPECT_TRUE(tx_.id.empty());
}

TEST_F(SmtpServerTest, EndTransactionResetsForTheNextMail) {
  open_transaction();
  expect("DATA", 354, "", Next::data);
  const std::string first = tx_.id;
  EXPECT_EQ(server_->accepted_reply().text(), "OK id=" + first);
  server_->end_transaction();
  EXPECT_FALSE(tx_.active);
  EXPECT_TRUE(tx_.id.empty());
  EXPECT_TRUE(session_.greeted);
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  expect("RCPT TO:<bob@example.net>", 250, "2.1.5");
  expect("DATA", 354, "", Next::data);
  EXPECT_NE(tx_.id, first);
}

// --- simple verbs -------------------------------------------------------------

TEST_F(SmtpServerTest, SimpleVerbs) {
  expect("NOOP", 250, "2.0.0");
  expect("noop anything", 250, "2.0.0");
  expect("VRFY bob", 252, "2.5.0");
  expect("VRFY", 501, "5.5.4");
  expect("EXPN staff", 502, "5.5.1");
  expect("STARTTLS", 502, "5.5.1");
  expect("AUTH PLAIN", 502, "5.5.1");
  expect("TURN", 500, "5.5.1");
  expect("", 500, "5.5.1");
  const Step help = expect("HELP", 214, "2.0.0");
  EXPECT_EQ(help.reply.lines.size(), 2u);
  const Step quit = expect("QUIT", 221, "2.0.0", Next::close);
  EXPECT_EQ(quit.reply.text(), "mx.example.net closing connection");
}

TEST_F(SmtpServerTest, RsetEndsTheTransactionButNotTheSession) {
  open_transaction();
  expect("RSET now", 501, "5.5.4");
  EXPECT_TRUE(tx_.active);
  expect("RSET", 250, "2.0.0");
  EXPECT_FALSE(tx_.active);
  EXPECT_TRUE(tx_.recipients.empty());
  EXPECT_TRUE(session_.greeted);
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
}

TEST_F(SmtpServerTest, NulAndNonAsciiOutsideAddressesAre500) {
  expect(std::string("NOOP a\0b", 8), 500, "5.5.2");
  expect(std::string("MAIL FROM:<a\0@b.example>", 24), 500, "5.5.2");
  expect("EHLO caf\xc3\xa9.example", 500, "5.5.2");
  expect("NOOP \xff", 500, "5.5.2");
  EXPECT_FALSE(session_.greeted);
}

TEST_F(SmtpServerTest, TimeoutClosesWith421) {
  const Step st = server_->on_timeout();
  EXPECT_EQ(st.reply.code, 421);
  EXPECT_EQ(st.reply.enhanced, "4.4.2");
  EXPECT_EQ(st.next, Next::close);
}

// --- the bad-command limit ---------------------------------------------------

TEST_F(SmtpServerTest, BadCommandsPastTheLimitClose421) {
  cfg_.limits.max_bad_commands = 3;
  connect();
  expect("FOO", 500, "5.5.1");
  expect("EHLO client.example", 250, "");  // good commands do not reset the count
  expect("DATA", 503, "5.5.1");
  const Step overlong = server_->on_overlong_line();
  EXPECT_EQ(overlong.reply.code, 500);
  EXPECT_EQ(overlong.next, Next::reply);
  EXPECT_EQ(session_.bad_commands, 3u);
  const Step st = expect("BOGUS", 421, "4.7.0", Next::close);
  EXPECT_EQ(st.reply.text(), "mx.example.net Too many errors, closing connection");
}

TEST_F(SmtpServerTest, EveryKindOfRefusalCounts) {
  cfg_.limits.max_bad_commands = 1000;
  connect();
  const std::vector<std::string> bad = {"EHLO", "MAIL FROM:<a@b.example>", "RCPT TO:<b@example.net>",
                                        "DATA", "VRFY", "EXPN x", "STARTTLS", "AUTH LOGIN",
                                        "XCLIENT ADDR=192.0.2.7", "RSET x", "BOGUS"};
  for (const auto& line : bad) send(line);
  EXPECT_EQ(session_.bad_commands, bad.size());
}

TEST_F(SmtpServerTest, JunkCommandsPastTheirLimitAreAnsweredAndCountAsBad) {
  cfg_.limits.max_junk_commands = 3;
  cfg_.limits.max_bad_commands = 1;
  connect();
  expect("EHLO client.example", 250, "");
  expect("NOOP", 250, "2.0.0");
  expect("RSET", 250, "2.0.0");
  expect("HELP", 214, "2.0.0");
  EXPECT_EQ(session_.junk_commands, 3u);
  EXPECT_EQ(session_.bad_commands, 0u);
  expect("VRFY postmaster", 252, "2.5.0");  // the fourth: still answered, and counted
  EXPECT_EQ(session_.bad_commands, 1u);
  expect("NOOP", 421, "4.7.0", Next::close);
}

TEST_F(SmtpServerTest, OnlyCommandsThatMoveNoMailAreJunk) {
  cfg_.limits.max_junk_commands = 0;
  cfg_.limits.max_bad_commands = 1000;
  connect();
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  expect("RCPT TO:<b@example.net>", 250, "2.1.5");
  EXPECT_EQ(session_.junk_commands, 0u);
  EXPECT_EQ(session_.bad_commands, 0u);
  for (const char* junk : {"NOOP", "RSET", "VRFY x", "EXPN x", "HELP"}) send(junk);
  EXPECT_EQ(session_.junk_commands, 5u);
  EXPECT_EQ(session_.bad_commands, 5u);  // EXPN is refused anyway: counted once, not twice
  send("BOGUS");
  send("AUTH LOGIN");
  EXPECT_EQ(session_.junk_commands, 5u);  // bad, but not junk
  EXPECT_EQ(session_.bad_commands, 7u);
}

// --- Received header and the verdict --------------------------------------------

TEST_F(SmtpServerTest, ReceivedHeaderForOneRecipient) {
  open_transaction();
  tx_.id = "1wXyZa-000000000AB-0001";
  session_.client.port = 40001;
  EXPECT_EQ(server_->received_header(0),
            "Received: from client.example ([192.0.2.1]:40001)\r\n"
            "\tby mx.example.net (Sluice) with ESMTP\r\n"
            "\tid 1wXyZa-000000000AB-0001\r\n"
            "\tfor <bob@example.net>;\r\n"
            "\tThu, 01 Jan 1970 00:00:00 +0000\r\n");
}

TEST_F(SmtpServerTest, ReceivedHeaderHidesRecipientsWhenThereAreSeveral) {
  open_transaction();
  expect("RCPT TO:<carol@example.net>", 250, "2.1.5");
  tx_.id = "1wXyZa-000000000AB-0002";
  const std::string h = server_->received_header(1700000000);
  EXPECT_EQ(h.find("for <"), std::string::npos) << h;
  EXPECT_EQ(h.find("carol"), std::string::npos) << h;
  EXPECT_NE(h.find("\tid 1wXyZa-000000000AB-0002;\r\n\tTue, 14 Nov 2023 22:13:20 +0000\r\n"), std::string::npos)
      << h;
}

TEST_F(SmtpServerTest, ReceivedHeaderNamesTheFrontEndAndTheProtocol) {
  connect(kFrontEnd);
  expect("XCLIENT ADDR=198.51.100.7 PORT=2525 NAME=host.client.example LOGIN=alice", 220, "");
  expect("EHLO laptop", 250, "");
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  expect("RCPT TO:<bob@example.net>", 250, "2.1.5");
  const std::string h = server_->received_header(0);
  EXPECT_EQ(h.rfind("Received: from laptop (host.client.example [198.51.100.7]:2525 via xclient [192.0.2.10])\r\n"
                    "\tby mx.example.net (Sluice) with ESMTPA\r\n",
                    0),
            0u)
      << h;

  connect();
  session_.origin = Origin::proxy;
  session_.client.addr = "203.0.113.5";
  expect("EHLO client.example", 250, "");
  expect("MAIL FROM:<pel\xc3\xa9@example.org> SMTPUTF8", 250, "2.1.0");
  const std::string u = server_->received_header(0);
  EXPECT_NE(u.find("([203.0.113.5]:40000 via proxy [192.0.2.1])"), std::string::npos) << u;
  EXPECT_NE(u.find(" with UTF8SMTP\r\n"), std::string::npos) << u;
}

TEST_F(SmtpServerTest, ReceivedHeaderWithoutHeloSaysUnknown) {
  tx_.id = "x";
  const std::string h = server_->received_header(0);
  EXPECT_EQ(h.rfind("Received: from unknown ([192.0.2.1]:40000)\r\n\tby mx.example.net (Sluice) with SMTP\r\n", 0),
            0u)
      << h;
}

TEST_F(SmtpServerTest, CheckMessageVerdicts) {
  EXPECT_TRUE(server_->check_message(MessageFacts{}).empty());
  MessageFacts nul;
  nul.nul = true;  // passed through by design (data_decoder.hpp)
  EXPECT_TRUE(server_->check_message(nul).empty());

  MessageFacts big;
  big.size_exceeded = big.bare_line_ending = big.overlong_line = true;
  Reply r = server_->check_message(big);  // size first: the client must not retry as is
  EXPECT_EQ(r.code, 552);
  EXPECT_EQ(r.enhanced, "5.3.4");

  MessageFacts bare;
  bare.bare_line_ending = bare.overlong_line = true;
  r = server_->check_message(bare);
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.5.2");

  MessageFacts longline;
  longline.overlong_line = true;
  r = server_->check_message(longline);
  EXPECT_EQ(r.code, 500);
  EXPECT_EQ(r.enhanced, "5.5.2");
  EXPECT_NE(r.text().find("1000"), std::string_view::npos);
}

TEST_F(SmtpServerTest, CommitAndChunkReplies) {
  EXPECT_EQ(server_->commit_failed_reply(true).code, 452);
  EXPECT_EQ(server_->commit_failed_reply(true).enhanced, "4.3.1");
  EXPECT_EQ(server_->commit_failed_reply(false).code, 451);
  EXPECT_EQ(server_->commit_failed_reply(false).enhanced, "4.3.0");
  const Reply c = server_->chunk_reply(12345);
  EXPECT_EQ(c.code, 250);
  EXPECT_EQ(c.text(), "12345 octets received");
}

}  // namespace
}  // namespace sluice::protocol::testing
