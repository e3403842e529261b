// DATA (RFC 5321 4.1.1.4) and BDAT (RFC 3030): the checks before message
// bytes flow. The bytes themselves are read by the connection.
#include <charconv>

#include "protocol/command.hpp"
#include "protocol/smtp_server.hpp"

namespace sluice::protocol {

Step SmtpServer::data(const Command& cmd) {
  if (!cmd.args.empty()) return refuse(Reply(501, "5.5.4", "Syntax: DATA takes no arguments"));
  if (!tx_.active) return refuse(Reply(503, "5.5.1", "Need MAIL command first"));
  // RFC 3030 2: no DATA in a transaction that used BDAT, a refused chunk
  // included (the transaction stays failed until RSET).
  if (tx_.bdat_started || tx_.bdat_failed) return refuse(Reply(503, "5.5.1", "DATA not allowed after BDAT"));
  if (tx_.recipients.empty()) return refuse(Reply(554, "5.5.1", "No valid recipients"));
  // RFC 3030 3: BINARYMIME messages can only be sent with BDAT.
  if (tx_.params.body == MailParams::Body::binarymime)
    return refuse(Reply(503, "5.5.1", "BODY=BINARYMIME needs BDAT"));
  start_transaction_id();
  Step st;
  st.reply = Reply(354, "", "End data with <CR><LF>.<CR><LF>");
  st.next = Step::Next::data;
  return st;
}

Step SmtpServer::bdat(const Command& cmd) {
  // "BDAT <size> [LAST]" (RFC 3030 2).
  std::string_view args = cmd.args;
  std::size_t sp = args.find(' ');
  std::string_view size_text = args.substr(0, sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view{} : args.substr(sp + 1);
  std::uint64_t size = 0;
  auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  const bool size_ok = !size_text.empty() && ec == std::errc{} && p == size_text.data() + size_text.size();
  const bool last = iequals(rest, "LAST");
  if (!size_ok || (!rest.empty() && !last))
    // Without a size we cannot know where the chunk ends: the dialogue is lost.
    return Step{Reply(501, "5.5.4", "Syntax: BDAT size [LAST]; closing connection"), Step::Next::close};
  if (!cfg_.smtp.chunking) return Step{Reply(502, "5.5.1", "BDAT not offered; closing connection"), Step::Next::close};

  Step st;
  st.next = Step::Next::bdat;
  st.chunk_size = size;
  st.last_chunk = last;
  // RFC 3030 2: the chunk is always read, even when the command is refused.
  auto fail = [&](Reply r) {
    ++s_.bad_commands;
    // The limit applies here too (refuse() is bypassed because the chunk must
    // be read): else a client could repeat a refused BDAT for ever.
    if (s_.bad_commands > cfg_.limits.max_bad_commands) return on_too_many_bad_commands();
    st.discard_chunk = true;
    st.reply = std::move(r);
    if (tx_.active) tx_.bdat_failed = true;
    return st;
  };
  if (!tx_.active) return fail(Reply(503, "5.5.1", "Need MAIL command first"));
  if (tx_.recipients.empty()) return fail(Reply(554, "5.5.1", "No valid recipients"));
  if (tx_.bdat_failed) return fail(Reply(503, "5.5.1", "Earlier BDAT chunk failed; send RSET"));
  tx_.bdat_started = true;
  start_transaction_id();
  return st;
}

}  // namespace sluice::protocol
