#include "storage/exim_header_file.hpp"

#include <cstdio>
#include <string_view>

namespace sluice::storage {
namespace {

void put_value(std::string& out, std::string_view v) {
  for (char c : v) out += (c == '\n' || c == '\r' || c == '\0') ? ' ' : c;
}

void put_line(std::string& out, std::string_view name, std::string_view value, bool tainted) {
  out += tainted ? "--" : "-";
  out += name;
  out += ' ';
  put_value(out, value);
  out += '\n';
}

void put_flag(std::string& out, std::string_view name) {
  out += '-';
  out += name;
  out += '\n';
}

// Exim 4.96 writes host and interface addresses as "[addr]:port" (the
// manual's older "addr.port" is read too).
std::string address_and_port(std::string_view addr, std::uint16_t port) {
  std::string s = "[";
  s += addr;
  s += "]:";
  s += std::to_string(port);
  return s;
}

void put_recipient(std::string& out, const EximRecipient& r) {
  put_value(out, r.address);
  if (r.orcpt.empty() && r.dsn_flags == 0) {
    out += '\n';
    return;
  }
  // "ADDR ORCPT ORCPTLEN,DSNFLAGS ERRORSTO ERRORSTOLEN,PNO#3": no errors_to
  // and no parent (-1); #3 says DSN data is present (spec section 3.4).
  out += ' ';
  put_value(out, r.orcpt);
  out += ' ';
  out += std::to_string(r.orcpt.size());
  out += ',';
  out += std::to_string(r.dsn_flags);
  out += "  0,-1#3\n";
}

}  // namespace

unsigned exim_dsn_flags(unsigned sluice_notify) { return (sluice_notify & 0x0fu) << 1; }

std::string format_exim_header_preamble(const EximHeaderPreamble& p) {
  std::string out;
  out += p.id;
  out += "-H\n";
  put_value(out, p.originator_login.substr(0, 63));
  out += ' ' + std::to_string(p.originator_uid) + ' ' + std::to_string(p.originator_gid) + '\n';
  out += '<';
  put_value(out, p.sender);
  out += ">\n";
  out += std::to_string(p.received_at) + " 0\n";
  if (p.received_usec) {
    char usec[16];
    std::snprintf(usec, sizeof usec, ".%06u", static_cast<unsigned>(*p.received_usec % 1000000));
    put_line(out, "received_time_usec", usec, false);
  }
  if (!p.helo_name.empty()) put_line(out, "helo_name", p.helo_name, true);
  if (!p.host_address.empty()) {
    put_line(out, "host_address", address_and_port(p.host_address, p.host_port), true);
    if (!p.host_name.empty()) put_line(out, "host_name", p.host_name, true);
  }
  if (!p.interface_address.empty())
    put_line(out, "interface_address", address_and_port(p.interface_address, p.interface_port), true);
  if (!p.received_protocol.empty()) put_line(out, "received_protocol", p.received_protocol, false);
  put_line(out, "body_linecount", std::to_string(p.body_linecount), false);
  put_line(out, "max_received_linelength", std::to_string(p.max_received_linelength), false);
  if (p.body_zerocount > 0) put_line(out, "body_zerocount", std::to_string(p.body_zerocount), false);
  if (!p.auth_id.empty()) put_line(out, "auth_id", p.auth_id, true);
  put_flag(out, "deliver_firsttime");  // a new message: no delivery tried yet
  if (!p.tls_cipher.empty()) put_line(out, "tls_cipher", p.tls_cipher, false);
  if (p.smtputf8) put_flag(out, "smtputf8");
  if (!p.dsn_envid.empty()) put_line(out, "dsn_envid", p.dsn_envid, false);
  if (p.dsn_ret != 0) put_line(out, "dsn_ret", std::to_string(p.dsn_ret), false);
  out += "XX\n";  // no non-recipients: nothing delivered yet
  out += std::to_string(p.recipients.size()) + '\n';
  for (const auto& r : p.recipients) put_recipient(out, r);
  out += '\n';
  return out;
}

}  // namespace sluice::storage
