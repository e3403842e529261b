// smtp_server_test_support.hpp — the fixture shared by the SmtpServer unit
// tests (smtp_server_test.cpp, smtp_server_session_test.cpp): a Config, a
// Session and a Transaction owned by the test, a server built on them, and
// helpers that send one command line and check the Step it returns.
// Sans-I/O: no sockets, the test plays the connection's part.
#pragma once
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config.hpp"
#include "protocol/smtp_server.hpp"

namespace sluice::protocol::testing {

inline constexpr std::string_view kOutsider = "192.0.2.1";    // untrusted client
inline constexpr std::string_view kFrontEnd = "192.0.2.10";   // in xclient_hosts
inline constexpr std::string_view kLoopback = "127.0.0.1";    // trusted by default

class SmtpServerTest : public ::testing::Test {
 protected:
  SmtpServerTest() {
    cfg_.smtp.hostname = "mx.example.net";
    cfg_.smtp.local_domains = {"example.net"};
    cfg_.smtp.relay_domains = {"relay.example"};
    EXPECT_TRUE(cfg_.smtp.xclient_hosts.add(std::string(kFrontEnd)));
    connect();
  }

  // A new connection from `peer` (also the effective client), with cfg_ as it
  // is now. Session and Transaction keep their addresses, so references held
  // by the server stay valid.
  void connect(std::string_view peer = kOutsider) {
    session_ = Session{};
    tx_ = Transaction{};
    session_.peer = Endpoint{std::string(peer), 40000, {}};
    session_.client = session_.peer;
    server_.emplace(cfg_, session_, tx_);
    server_->evaluate_permissions();
  }

  Step send(std::string_view line) { return server_->on_line(line); }

  // Sends `line`; checks code, enhanced code and what comes next. An accepted
  // BDAT has no reply yet (code 0): the connection fills it in after the chunk.
  Step expect(std::string_view line, int code, std::string_view enhanced,
              Step::Next next = Step::Next::reply) {
    Step st = send(line);
    EXPECT_EQ(st.reply.code, code) << "line: " << line << " text: " << st.reply.text();
    EXPECT_EQ(st.reply.enhanced, enhanced) << "line: " << line;
    EXPECT_EQ(static_cast<int>(st.next), static_cast<int>(next)) << "line: " << line;
    EXPECT_EQ(st.reply.lines.empty(), code == 0) << "line: " << line;
    return st;
  }

  // The EHLO reply's lines.
  std::vector<std::string> ehlo_lines() { return send("EHLO client.example").reply.lines; }

  // EHLO, MAIL and one local recipient: a transaction ready for DATA/BDAT.
  void open_transaction(std::string_view mail = "MAIL FROM:<a@sender.example>") {
    expect("EHLO client.example", 250, "");
    expect(mail, 250, "2.1.0");
    expect("RCPT TO:<bob@example.net>", 250, "2.1.5");
  }

  gateway::Config cfg_;
  Session session_;
  Transaction tx_;
  std::optional<SmtpServer> server_;
};

}  // namespace sluice::protocol::testing
