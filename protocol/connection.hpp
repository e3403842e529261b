// connection.hpp — the I/O half of one SMTP session (private to protocol/).
//
// Connection owns the socket, the input buffer and the pending replies; it
// asks SmtpServer (no I/O) what each command means and does what the Step
// says. Replies are collected and flushed only when no complete command is
// left in the input (RFC 2920 3.2: a server may batch replies while more
// pipelined input is waiting), which also puts banner and EHLO reply in one
// write for an early-pipelining client.
// Files: server_connection.cpp (set-up, PROXY header, banner, command loop),
// server_connection_tls.cpp (STARTTLS and implicit TLS),
// message_receiver.cpp (DATA and BDAT into the spool).
#pragma once
#include <array>
#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "protocol/input_buffer.hpp"
#include "protocol/server_connection.hpp"
#include "protocol/smtp_server.hpp"
#include "protocol/tls_stream.hpp"
#include "filters/policy.hpp"

namespace sluice::filters {
class FilterChain;
}

namespace sluice::protocol {

class Connection {
 public:
  Connection(boost::asio::ip::tcp::socket socket, ConnectionContext ctx);
  ~Connection();
  // The session beside its deadline's watchdog (io_deadline.hpp).
  boost::asio::awaitable<void> run();

 private:
  enum class Flow { go_on, stop };

  boost::asio::awaitable<Flow> read_proxy_header();
  Flow check_early_talker();
  boost::asio::awaitable<void> command_loop();
  boost::asio::awaitable<Flow> handle(const Step& step);
  boost::asio::awaitable<Flow> receive_data();
  boost::asio::awaitable<Flow> receive_bdat(const Step& step);
  boost::asio::awaitable<Reply> finish_message(const MessageFacts& facts);
  boost::asio::awaitable<Flow> append(std::string_view bytes);
  // Reads more input; Flow::stop when the session must end (reply queued).
  boost::asio::awaitable<Flow> fill(std::chrono::seconds timeout, bool in_data);
  boost::asio::awaitable<bool> flush();
  // TLS (server_connection_tls.cpp): the handshake after STARTTLS or, for an
  // implicit-TLS listener, before the banner.
  boost::asio::awaitable<Flow> start_tls(bool implicit);
  boost::asio::awaitable<Flow> handle_starttls(const Step& step);
  void note_client_certificate(const tls::PeerCertificate& peer);
  // The socket or the TLS stream, whichever the session runs on now.
  boost::asio::awaitable<IoResult> stream_read_some(std::span<char> buf, std::chrono::steady_clock::duration timeout);
  IoResult stream_read_available(std::span<char> buf);
  boost::asio::awaitable<IoResult> stream_write_all(std::string_view data, std::chrono::steady_clock::duration timeout);
  void queue(const Reply& r);
  void log_reject(const Reply& r, std::string_view what);
  void drop_message();
  // The filter chain (filters/filter_chain.hpp): a transaction starts or ends.
  void start_filter_chain();
  void filters_follow_transaction(bool was_active);
  // Session facts the filters hear of after a command: XCLIENT's new client, HELO, RCPT.
  void filters_follow_session(const std::string& helo_before, std::size_t recipients_before, Origin origin_before,
                              const std::string& client_before);
  bool filters_judge_this_client() const;
  void log_filter_results() const;
  // Operator policy ([[policy]], filters/policy.hpp; protocol/policy_hooks.cpp).
  filters::PolicyFacts policy_facts() const;
  void apply_policy_after_command(Step& step, bool was_active, std::size_t recipients_before);
  // End of data: the reply when the policy refuses, else empty; fills the
  // headers to add and the quarantine directory.
  Reply apply_policy_at_data(std::string& added_headers, std::string& quarantine);
  void log_policy(const filters::PolicyDecision& d, std::string_view phase) const;
  // A DMARC failure report for the message just judged, when the operator
  // asked for them (protocol/forensic_submission.cpp).
  void send_forensic_report(std::string_view delivery_result);
  bool drain_now() const;
  std::chrono::seconds command_timeout() const;

  boost::asio::awaitable<void> run_session();
  boost::asio::ip::tcp::socket socket_;
  IoDeadline io_deadline_{socket_};  // the deadline of every wait on the socket, plain or TLS
  std::unique_ptr<TlsStream> tls_;  // set once the handshake succeeded
  ConnectionContext ctx_;
  const gateway::Config& cfg_;
  Session session_;
  Transaction tx_;
  SmtpServer server_;
  InputBuffer in_;
  std::array<char, 512> idle_buffer_;  // reads while idle land here (see fill())
  std::string out_;
  std::unique_ptr<storage::MessageWriter> writer_;
  // Made at the session's first MAIL (start_filter_chain), so a session
  // that never sends one holds none; null when [filters] is off.
  std::unique_ptr<filters::FilterChain> filters_;
  std::string filtered_;  // what the chain passed on for the spool (reused buffer)
  std::set<std::string> policy_flags_;     // set_flags of this transaction's rules
  std::set<std::string> policy_controls_;  // controls of this transaction's rules
  std::uint64_t message_bytes_ = 0;    // decoded bytes of the current message
  std::uint64_t bdat_header_bytes_ = 0; // our Received header, stored in front of BDAT data
  bool message_too_big_ = false;
  std::string end_reason_ = "quit";
  bool quit_sent_ = false;  // 221 queued: a reset from here on is the client's way of leaving
  bool reset_noted_ = false;
  void note_reset_after_quit();  // once per session, only under tls.log_protocol_details
  bool replied_ = false;  // a reply was just written: the client has not answered yet
  std::chrono::steady_clock::time_point started_;
};

}  // namespace sluice::protocol
