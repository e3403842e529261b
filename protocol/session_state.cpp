#include "protocol/session_state.hpp"

namespace sluice::protocol {

std::string Session::protocol_name(bool utf8) const {
  std::string p = utf8 ? "utf8" : "";
  p += esmtp ? "esmtp" : "smtp";
  if (tls) p += 's';
  if (!login.empty()) p += 'a';
  return p;
}

std::string_view Session::pipelining_mark() const {
  if (pipeconnect_used) return "*";
  if (pipeconnect_advertised) return ".";
  return "";
}

std::string Session::host_for_log() const {
  std::string h;
  if (!client.name.empty()) {
    h += client.name;
    h += ' ';
  }
  if (!helo.empty()) {
    h += '(';
    h += helo;
    h += ") ";
  }
  h += '[';
  h += client.addr;
  h += ']';
  if (client.port != 0) {  // 0: unknown (XCLIENT ADDR without PORT)
    h += ':';
    h += std::to_string(client.port);
  }
  return h;
}

}  // namespace sluice::protocol
