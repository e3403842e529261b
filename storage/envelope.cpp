#include "storage/envelope.hpp"

#include <cstdio>

namespace sluice::storage {
namespace {

void put_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through (SMTPUTF8 addresses)
        }
    }
  }
  out += '"';
}

void put_key(std::string& out, std::string_view key, bool& first) {
  if (!first) out += ',';
  first = false;
  put_string(out, key);
  out += ':';
}

}  // namespace

std::string to_json(const Envelope& e) {
  std::string out;
  out.reserve(512 + e.recipients.size() * 64);
  bool first = true;
  out += '{';
  auto str = [&](std::string_view k, std::string_view v) {
    put_key(out, k, first);
    put_string(out, v);
  };
  auto num = [&](std::string_view k, auto v) {
    put_key(out, k, first);
    out += std::to_string(v);
  };
  auto boolean = [&](std::string_view k, bool v) {
    put_key(out, k, first);
    out += v ? "true" : "false";
  };
  str("id", e.id);
  str("sender", e.sender);
  put_key(out, "recipients", first);
  out += '[';
  for (std::size_t i = 0; i < e.recipients.size(); ++i) {
    const auto& r = e.recipients[i];
    if (i) out += ',';
    bool rfirst = true;
    out += '{';
    put_key(out, "address", rfirst);
    put_string(out, r.address);
    put_key(out, "notify", rfirst);
    out += std::to_string(r.notify);
    put_key(out, "orcpt", rfirst);
    put_string(out, r.orcpt);
    out += '}';
  }
  out += ']';
  num("received_at", e.received_at);
  num("size", e.size);
  str("body", e.body_type);
  boolean("smtputf8", e.smtputf8);
  str("ret", e.ret);
  str("envid", e.envid);
  boolean("requiretls", e.requiretls);
  str("helo", e.helo);
  str("protocol", e.protocol);
  str("client_addr", e.client_addr);
  num("client_port", e.client_port);
  str("client_name", e.client_name);
  str("proxy_addr", e.proxy_addr);
  str("origin", e.origin);
  str("login", e.login);
  out += "}\n";
  return out;
}

}  // namespace sluice::storage
