#include "filters/dmarc_record.hpp"

#include <vector>

namespace sluice::filters {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lowered(std::string_view s) {
  std::string o;
  for (char c : s) o += lower(c);
  return o;
}
bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

bool is_policy(std::string_view v) { return v == "none" || v == "quarantine" || v == "reject"; }

// RFC 7489 6.4: dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ].
// We keep mailto: URIs (the only kind we can send to) and check their shape.
bool is_report_uri(std::string_view u) {
  if (u.size() < 8 || lowered(u.substr(0, 7)) != "mailto:") return false;
  const auto bang = u.find('!');
  const std::string_view addr = u.substr(7, bang == std::string_view::npos ? std::string_view::npos : bang - 7);
  if (addr.find('@') == std::string_view::npos || addr.front() == '@' || addr.back() == '@') return false;
  if (bang != std::string_view::npos) {
    std::string_view size = u.substr(bang + 1);
    if (size.empty()) return false;
    if (std::string_view("kmgtKMGT").find(size.back()) != std::string_view::npos) size.remove_suffix(1);
    if (size.empty()) return false;
    for (char c : size)
      if (c < '0' || c > '9') return false;
  }
  return true;
}

std::vector<std::string> uri_list(std::string_view v) {
  std::vector<std::string> out;
  for (auto u : split(v, ',')) {
    u = trim(u);
    if (is_report_uri(u)) out.emplace_back(u);
  }
  return out;
}

}  // namespace

bool looks_like_dmarc_record(std::string_view txt) {
  // RFC 7489 6.4: "v" *WSP "=" *WSP "DMARC1" — the tag name is an ABNF
  // string (any case), the value is given as exact octets (upper case).
  txt = trim(txt);
  if (txt.empty() || lower(txt.front()) != 'v') return false;
  std::string_view rest = trim(txt.substr(1));
  if (rest.empty() || rest.front() != '=') return false;
  rest = trim(rest.substr(1));
  if (rest.substr(0, 6) != "DMARC1") return false;
  rest = trim(rest.substr(6));
  return rest.empty() || rest.front() == ';';
}

std::optional<DmarcRecord> parse_dmarc_record(std::string_view txt, std::string& error) {
  if (!looks_like_dmarc_record(txt)) {
    error = "not a DMARC record (v=DMARC1 must come first)";
    return std::nullopt;
  }
  DmarcRecord r;
  bool have_p = false, p_bad = false, sp_bad = false;
  bool first = true;
  for (auto part : split(txt, ';')) {
    part = trim(part);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      error = "tag without a value: \"" + std::string(part) + "\"";
      return std::nullopt;
    }
    const std::string tag = lowered(trim(part.substr(0, eq)));
    const std::string_view raw = trim(part.substr(eq + 1));
    const std::string value = lowered(raw);
    if (first) {
      first = false;
      continue;  // v=DMARC1, checked above
    }
    if (tag == "v") {
      error = "v= appears twice";
      return std::nullopt;
    }
    if (tag == "p") {
      if (is_policy(value)) {
        r.p = value;
        have_p = true;
      } else {
        p_bad = true;
      }
    } else if (tag == "sp") {
      if (is_policy(value)) r.sp = value;
      else sp_bad = true;
    } else if (tag == "pct") {
      unsigned n = 0;
      bool ok = !value.empty() && value.size() <= 3;
      for (char c : value) ok = ok && c >= '0' && c <= '9';
      if (ok) {
        for (char c : value) n = n * 10 + static_cast<unsigned>(c - '0');
        if (n <= 100) r.pct = n;
      }
    } else if (tag == "adkim") {
      if (value == "r" || value == "s") r.adkim = value[0];
    } else if (tag == "aspf") {
      if (value == "r" || value == "s") r.aspf = value[0];
    } else if (tag == "rua") {
      r.rua = uri_list(raw);
    } else if (tag == "ruf") {
      r.ruf = uri_list(raw);
    } else if (tag == "fo") {
      bool ok = !value.empty();
      for (auto o : split(value, ':')) ok = ok && (o == "0" || o == "1" || o == "d" || o == "s");
      if (ok) r.fo = value;
    } else if (tag == "ri") {
      std::uint64_t n = 0;
      bool ok = !value.empty() && value.size() <= 10;
      for (char c : value) ok = ok && c >= '0' && c <= '9';
      if (ok) {
        for (char c : value) n = n * 10 + static_cast<unsigned>(c - '0');
        if (n <= 0xffffffffu) r.ri = static_cast<std::uint32_t>(n);
      }
    }
    // rf= and unknown tags: ignored (6.3).
  }
  if (!have_p || sp_bad) {
    // 6.6.3 step 6: a record with a missing or invalid p=, or an invalid sp=,
    // but a valid rua= is acted on as "v=DMARC1; p=none" (so no sp= either:
    // a valid sp= beside a bad p= must not reach subdomains); otherwise it is
    // no record at all.
    if (!r.rua.empty()) {
      r.p = "none";
      r.sp.clear();
      r.invalid_policy_fallback = true;
    } else {
      error = !have_p ? (p_bad ? "p= is not none, quarantine or reject" : "no p= tag")
                      : "sp= is not none, quarantine or reject";
      return std::nullopt;
    }
  }
  return r;
}

}  // namespace sluice::filters
