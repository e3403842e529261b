#include "protocol/reply.hpp"

#include <cstdio>

namespace sluice::protocol {

void Reply::append_to(std::string& out) const {
  const std::string code_str = std::to_string(code);
  const std::size_t n = lines.empty() ? 1 : lines.size();
  for (std::size_t i = 0; i < n; ++i) {
    out += code_str;
    out += (i + 1 < n) ? '-' : ' ';
    if (!enhanced.empty()) {
      out += enhanced;
      out += ' ';
    }
    if (i < lines.size()) out += lines[i];
    out += "\r\n";
  }
}

std::string Reply::to_wire() const {
  std::string out;
  append_to(out);
  return out;
}

std::string sanitize_for_log(std::string_view in, std::size_t max) {
  std::string out;
  out.reserve(std::min(in.size(), max) + 8);
  for (unsigned char c : in) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace sluice::protocol
