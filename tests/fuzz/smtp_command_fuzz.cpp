// Fuzz target: arbitrary client bytes through the command path — InputBuffer
// line splitting, parse_command, and the SmtpServer state machine with every
// verb handler — split into reads at fuzzer-chosen points.
// Checks, beyond "no crash": every Step carries a well-formed reply (3-digit
// code; enhanced code of the form c.d.e whose class matches the code, except
// where RFC 2034 allows none), a close Step is 221 or 421, and the state
// machine's bounds hold (recipients <= max_recipients).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/config.hpp"
#include "protocol/input_buffer.hpp"
#include "protocol/smtp_server.hpp"

using namespace sluice;

namespace {
void check_reply(const protocol::Reply& r) {
  if (r.code < 200 || r.code > 599) std::abort();
  if (r.lines.empty()) std::abort();
  if (!r.enhanced.empty()) {
    if (r.enhanced.size() < 5 || r.enhanced[1] != '.') std::abort();
    if (r.enhanced[0] - '0' != r.code / 100) std::abort();
  } else if (r.code != 220 && r.code != 250 && r.code != 354) {
    std::abort();  // only greeting, EHLO/HELO and 354 go without one
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gateway::Config cfg = [] {
    gateway::Config c;
    c.limits.max_recipients = 5;
    c.limits.max_bad_commands = 1000;
    c.smtp.xclient_hosts.add("127.0.0.1");
    return c;
  }();
  protocol::Session session;
  session.peer = session.client = protocol::Endpoint{"127.0.0.1", 1234, {}};
  protocol::Transaction tx;
  protocol::SmtpServer server(cfg, session, tx);
  server.evaluate_permissions();
  protocol::InputBuffer in;

  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t step = size > 0 ? (data[0] % 97) + 1 : 1;  // read size chosen by the input
  for (std::size_t pos = 0; pos < input.size(); pos += step) {
    auto chunk = input.substr(pos, step);
    auto buf = in.prepare(chunk.size());
    std::copy(chunk.begin(), chunk.end(), buf.begin());
    in.commit(chunk.size());
    for (;;) {
      auto line = in.next_line(cfg.limits.command_line_max);
      if (line.status == protocol::LineStatus::need_more) break;
      protocol::Step st = line.status == protocol::LineStatus::overlong ? server.on_overlong_line()
                                                                        : server.on_line(line.line);
      if (st.next != protocol::Step::Next::bdat || st.discard_chunk) check_reply(st.reply);
      if (st.next == protocol::Step::Next::close && st.reply.code != 221 && st.reply.code != 421 &&
          st.reply.code != 501 && st.reply.code != 502)
        std::abort();
      if (tx.recipients.size() > cfg.limits.max_recipients) std::abort();
      if (st.next == protocol::Step::Next::close) return 0;
      // DATA/BDAT bodies are the connection's business: finish the
      // transaction as the connection would after a refused message.
      if (st.next == protocol::Step::Next::data || st.next == protocol::Step::Next::bdat) server.end_transaction();
    }
  }
  return 0;
}
