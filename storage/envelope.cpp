#include "storage/envelope.hpp"

#include <cstdio>

namespace sluice::storage {
namespace {

// Length of the well-formed UTF-8 sequence that starts `s` (RFC 3629:
// shortest form, no surrogates, at most U+10FFFF), or 0 when there is none.
std::size_t utf8_sequence(std::string_view s) {
  const auto b = static_cast<unsigned char>(s[0]);
  std::size_t n = 0;
  unsigned cp = 0;
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2;
    cp = b & 0x1fu;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    cp = b & 0x0fu;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    cp = b & 0x07u;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

void put_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else if (std::size_t n = c >= 0x80 ? utf8_sequence(s.substr(i)) : 0) {
          out.append(s.substr(i, n));  // UTF-8 passes through (SMTPUTF8 addresses)
          i += n - 1;
        } else {
          // Controls, and bytes that are not UTF-8 (XCLIENT LOGIN may hold
          // any): JSON must be UTF-8 (RFC 8259 8.1), so a stray byte becomes
          // the code point of the same value, and the file stays readable.
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
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

void json_member(std::string& out, std::string_view key, std::string_view value) {
  bool first = false;  // a member after others: put_key writes the comma
  put_key(out, key, first);
  put_string(out, value);
}

void json_member(std::string& out, std::string_view key, std::int64_t value) {
  bool first = false;
  put_key(out, key, first);
  out += std::to_string(value);
}

bool json_keeps_bytes(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) < 0x80) continue;
    const std::size_t n = utf8_sequence(s.substr(i));
    if (n == 0) return false;
    i += n - 1;
  }
  return true;
}

void append_envelope_json(std::string& out, const Envelope& e, const EnvelopeJsonExtras& extras) {
  out.reserve(out.size() + 512 + e.recipients.size() * 96);
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
    if (extras.recipient) extras.recipient(out, i);
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
  if (!e.added_headers.empty()) str("added_headers", e.added_headers);
  if (!e.quarantine_directory.empty()) str("quarantine_directory", e.quarantine_directory);
  if (extras.object) extras.object(out);
  out += '}';
}

}  // namespace sluice::storage
