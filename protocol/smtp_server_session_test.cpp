// SmtpServer: BDAT (RFC 3030) command parsing and sequencing, and XCLIENT
// (../shared/specs/xclient.md): identity change and permission re-evaluation.
#include <gtest/gtest.h>

#include <string>

#include "protocol/smtp_server.hpp"
#include "protocol/smtp_server_test_support.hpp"
#include "storage/message_id.hpp"

namespace sluice::protocol::testing {
namespace {

using Next = Step::Next;

// --- BDAT -----------------------------------------------------------------------

TEST_F(SmtpServerTest, BdatParsesSizeAndLast) {
  open_transaction();
  Step st = expect("BDAT 1000", 0, "", Next::bdat);
  EXPECT_EQ(st.chunk_size, 1000u);
  EXPECT_FALSE(st.last_chunk);
  EXPECT_FALSE(st.discard_chunk);
  EXPECT_TRUE(tx_.bdat_started);
  ASSERT_TRUE(storage::is_valid_message_id(tx_.id)) << tx_.id;
  const std::string id = tx_.id;

  st = expect("bdat 0 last", 0, "", Next::bdat);
  EXPECT_EQ(st.chunk_size, 0u);
  EXPECT_TRUE(st.last_chunk);
  EXPECT_FALSE(st.discard_chunk);
  EXPECT_EQ(tx_.id, id);  // one message, one id

  st = expect("BDAT 18446744073709551615 LAST", 0, "", Next::bdat);
  EXPECT_EQ(st.chunk_size, 18446744073709551615ull);
}

TEST_F(SmtpServerTest, BdatWithoutAUsableSizeClosesTheConnection) {
  // The chunk's end cannot be known, so the dialogue cannot be kept in sync.
  for (const char* line : {"BDAT", "BDAT ", "BDAT x", "BDAT -1", "BDAT +5", "BDAT 1.5", "BDAT 10 MORE",
                           "BDAT 10  LAST", "BDAT 10 LAST x", "BDAT 18446744073709551616",
                           "BDAT 0x10"}) {
    open_transaction();
    const Step st = expect(line, 501, "5.5.4", Next::close);
    EXPECT_FALSE(tx_.bdat_started) << line;
    connect();
  }
}

TEST_F(SmtpServerTest, BdatWhenChunkingIsOffClosesTheConnection) {
  cfg_.smtp.chunking = false;
  connect();
  open_transaction();
  expect("BDAT 10 LAST", 502, "5.5.1", Next::close);
}

TEST_F(SmtpServerTest, RefusedChunkIsStillReadThenDiscarded) {
  expect("EHLO client.example", 250, "");
  Step st = expect("BDAT 300", 503, "5.5.1", Next::bdat);  // no MAIL
  EXPECT_TRUE(st.discard_chunk);
  EXPECT_EQ(st.chunk_size, 300u);
  EXPECT_EQ(session_.bad_commands, 1u);

  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  st = expect("BDAT 20 LAST", 554, "5.5.1", Next::bdat);  // no recipient
  EXPECT_TRUE(st.discard_chunk);
  EXPECT_TRUE(st.last_chunk);
  EXPECT_TRUE(tx_.bdat_failed);
  EXPECT_FALSE(tx_.bdat_started);
  EXPECT_TRUE(tx_.id.empty());  // nothing taken for a refused chunk

  // Once a chunk failed, the transaction stays failed until RSET.
  expect("RCPT TO:<bob@example.net>", 250, "2.1.5");
  st = expect("BDAT 5", 503, "5.5.1", Next::bdat);
  EXPECT_TRUE(st.discard_chunk);
  expect("DATA", 503, "5.5.1");  // nor by switching to DATA (RFC 3030 2)
  expect("RSET", 250, "2.0.0");
  EXPECT_FALSE(tx_.bdat_failed);
  expect("MAIL FROM:<a@sender.example>", 250, "2.1.0");
  expect("RCPT TO:<bob@example.net>", 250, "2.1.5");
  st = expect("BDAT 5 LAST", 0, "", Next::bdat);
  EXPECT_FALSE(st.discard_chunk);
}

TEST_F(SmtpServerTest, RefusedChunksCountTowardsTheBadCommandLimit) {
  // A client repeating a refused BDAT must not escape the limit: each chunk is
  // read and dropped, so without it the junk would never end.
  cfg_.limits.max_bad_commands = 2;
  connect();
  expect("EHLO client.example", 250, "");
  expect("BDAT 10", 503, "5.5.1", Next::bdat);
  expect("BDAT 10", 503, "5.5.1", Next::bdat);
  const Step st = expect("BDAT 10", 421, "4.7.0", Next::close);
  EXPECT_FALSE(st.discard_chunk);
}

TEST_F(SmtpServerTest, NoRcptNorDataAfterBdatAndNoMixing) {
  open_transaction();
  expect("BDAT 3", 0, "", Next::bdat);
  expect("RCPT TO:<carol@example.net>", 503, "5.5.1");
  expect("DATA", 503, "5.5.1");
  expect("MAIL FROM:<x@sender.example>", 503, "5.5.1");
  EXPECT_EQ(tx_.recipients.size(), 1u);
  expect("BDAT 3 LAST", 0, "", Next::bdat);
}

TEST_F(SmtpServerTest, BinarymimeGoesThroughBdat) {
  open_transaction("MAIL FROM:<a@sender.example> BODY=BINARYMIME");
  const Step st = expect("BDAT 4 LAST", 0, "", Next::bdat);
  EXPECT_FALSE(st.discard_chunk);
}

// --- XCLIENT ----------------------------------------------------------------------

TEST_F(SmtpServerTest, XclientFromAnUnlistedClientIs550AndChangesNothing) {
  expect("EHLO client.example", 250, "");
  const Step st = expect("XCLIENT ADDR=127.0.0.1 NAME=trusted.example", 550, "5.7.0");
  EXPECT_EQ(session_.client.addr, "192.0.2.1");
  EXPECT_EQ(session_.origin, Origin::direct);
  EXPECT_FALSE(session_.relay_trusted);
  EXPECT_TRUE(session_.greeted);
  EXPECT_EQ(session_.bad_commands, 1u);
}

TEST_F(SmtpServerTest, XclientReplacesTheClientAndAsksForANewGreeting) {
  connect(kFrontEnd);
  expect("EHLO proxy.example", 250, "");
  const Step st =
      expect("XCLIENT ADDR=198.51.100.7 PORT=4321 NAME=host.client.example DESTADDR=192.0.2.25 DESTPORT=25",
             220, "");
  EXPECT_EQ(st.reply.lines, server_->greeting().lines);
  EXPECT_EQ(session_.client.addr, "198.51.100.7");
  EXPECT_EQ(session_.client.port, 4321);
  EXPECT_EQ(session_.client.name, "host.client.example");
  EXPECT_EQ(session_.local.addr, "192.0.2.25");
  EXPECT_EQ(session_.local.port, 25);
  EXPECT_EQ(session_.peer.addr, "192.0.2.10");  // the front end stays visible
  EXPECT_EQ(session_.origin, Origin::xclient);
  EXPECT_FALSE(session_.greeted);
  EXPECT_EQ(session_.helo, "");
  EXPECT_FALSE(session_.esmtp);

  expect("MAIL FROM:<a@sender.example>", 503, "5.5.1");  // EHLO first
  const Step ehlo = expect("EHLO laptop.example", 250, "");
  EXPECT_EQ(ehlo.reply.lines.front(), "mx.example.net Hello laptop.example [198.51.100.7]");
  for (const auto& l : ehlo.reply.lines) EXPECT_NE(l.rfind("XCLIENT", 0), 0u) << l;
}

TEST_F(SmtpServerTest, XclientCannotWidenItsOwnAccess) {
  connect(kFrontEnd);
  expect("XCLIENT ADDR=198.51.100.7", 220, "");
  EXPECT_FALSE(session_.xclient_allowed);
  expect("XCLIENT ADDR=192.0.2.10", 550, "5.7.0");  // not even back to the proxy
  EXPECT_EQ(session_.client.addr, "198.51.100.7");

  // A new identity that is itself listed keeps the right.
  ASSERT_TRUE(cfg_.smtp.xclient_hosts.add("198.51.100.0/24"));
  connect(kFrontEnd);
  expect("XCLIENT ADDR=198.51.100.7", 220, "");
  EXPECT_TRUE(session_.xclient_allowed);
  expect("XCLIENT ADDR=203.0.113.9", 220, "");
  EXPECT_FALSE(session_.xclient_allowed);
}

TEST_F(SmtpServerTest, XclientReevaluatesRelayTrustBothWays) {
  // The front end itself is trusted to relay, its client is not.
  ASSERT_TRUE(cfg_.smtp.trusted_networks.add(std::string(kFrontEnd)));
  connect(kFrontEnd);
  EXPECT_TRUE(session_.relay_trusted);
  expect("XCLIENT ADDR=203.0.113.9", 220, "");
  EXPECT_FALSE(session_.relay_trusted);
  open_transaction();
  expect("RCPT TO:<victim@elsewhere.example>", 550, "5.7.1");

  // An untrusted front end vouching for a trusted client.
  cfg_.smtp.trusted_networks = gateway::NetworkList::loopback();
  connect(kFrontEnd);
  EXPECT_FALSE(session_.relay_trusted);
  expect("XCLIENT ADDR=IPV6:::1", 220, "");
  EXPECT_EQ(session_.client.addr, "::1");
  EXPECT_TRUE(session_.relay_trusted);
  open_transaction();
  expect("RCPT TO:<friend@elsewhere.example>", 250, "2.1.5");
}

TEST_F(SmtpServerTest, XclientUnavailableAddressTrustsNothing) {
  ASSERT_TRUE(cfg_.smtp.trusted_networks.add("0.0.0.0/0"));
  connect(kFrontEnd);
  expect("XCLIENT ADDR=[UNAVAILABLE] NAME=[TEMPUNAVAIL]", 220, "");
  EXPECT_EQ(session_.client.addr, "unknown");
  EXPECT_EQ(session_.client.name, "");
  EXPECT_FALSE(session_.relay_trusted);
  EXPECT_FALSE(session_.xclient_allowed);
}

TEST_F(SmtpServerTest, XclientKeepsHeloProtoAndLoginOnlyWhenGiven) {
  connect(kFrontEnd);
  expect("EHLO proxy.example", 250, "");
  expect("XCLIENT ADDR=198.51.100.7 HELO=laptop PROTO=ESMTP LOGIN=a+20b", 220, "");
  EXPECT_EQ(session_.helo, "laptop");
  EXPECT_TRUE(session_.esmtp);
  EXPECT_EQ(session_.login, "a b");
  EXPECT_FALSE(session_.greeted);  // HELO given in XCLIENT does not greet for the client

  ASSERT_TRUE(cfg_.smtp.xclient_hosts.add("198.51.100.7"));
  connect(kFrontEnd);
  expect("XCLIENT ADDR=198.51.100.7 LOGIN=alice HELO=laptop PROTO=ESMTP", 220, "");
  expect("XCLIENT NAME=host.client.example", 220, "");  // no ADDR needed the second time
  EXPECT_EQ(session_.client.addr, "198.51.100.7");
  EXPECT_EQ(session_.login, "");
  EXPECT_EQ(session_.helo, "");
  EXPECT_FALSE(session_.esmtp);
}

TEST_F(SmtpServerTest, FirstXclientMustCarryAddrAndPortWhenConfigured) {
  connect(kFrontEnd);
  expect("XCLIENT NAME=host.client.example", 501, "5.5.4");
  EXPECT_EQ(session_.client.name, "");
  EXPECT_EQ(session_.origin, Origin::direct);

  cfg_.smtp.xclient_require_port = true;
  connect(kFrontEnd);
  expect("XCLIENT ADDR=198.51.100.7", 501, "5.5.4");
  EXPECT_EQ(session_.client.addr, "192.0.2.10");
  expect("XCLIENT ADDR=198.51.100.7 PORT=1", 220, "");
}

TEST_F(SmtpServerTest, XclientSyntaxErrorsAndTransactionsAreRefused) {
  connect(kFrontEnd);
  expect("XCLIENT", 501, "5.5.4");
  expect("XCLIENT ADDR=999.1.1.1", 501, "5.5.4");
  expect("XCLIENT ADDR=198.51.100.7 PORT=65536", 501, "5.5.4");
  expect("XCLIENT ADDR=198.51.100.7 FOO=bar", 501, "5.5.4");
  EXPECT_EQ(session_.client.addr, "192.0.2.10");
  open_transaction();
  expect("XCLIENT ADDR=198.51.100.7", 503, "5.5.1");
  EXPECT_EQ(session_.client.addr, "192.0.2.10");
  EXPECT_TRUE(tx_.active);
  expect("RSET", 250, "2.0.0");
  expect("XCLIENT ADDR=198.51.100.7", 220, "");
}

TEST_F(SmtpServerTest, XclientKeepsTheEarlyPipeliningVerdictOfThePeer) {
  cfg_.smtp.pipeconnect_hosts = gateway::NetworkList{};
  ASSERT_TRUE(cfg_.smtp.pipeconnect_hosts.add(std::string(kFrontEnd)));
  connect(kFrontEnd);
  EXPECT_TRUE(session_.pipeconnect_allowed);
  expect("XCLIENT ADDR=198.51.100.7", 220, "");
  EXPECT_TRUE(session_.pipeconnect_allowed);
}

}  // namespace
}  // namespace sluice::protocol::testing
