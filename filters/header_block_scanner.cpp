#include "filters/header_block_scanner.hpp"

#include <algorithm>

namespace sluice::filters {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// "Name:" → Name (without trailing WSP before the colon); empty if the line
// is not a field start.
std::string_view field_name(std::string_view field) {
  const auto colon = field.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  return name;
}

// Skips CFWS (RFC 5322 3.2.2): whitespace, line breaks and (nested) comments.
std::size_t skip_cfws(std::string_view s, std::size_t i) {
  while (i < s.size()) {
    const char c = s[i];
    if (is_wsp(c) || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '(') {
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\') { ++i; continue; }
        if (s[i] == '(') ++depth;
        if (s[i] == ')' && --depth == 0) { ++i; break; }
      }
    } else {
      break;
    }
  }
  return i;
}

// Unfolds and drops the line ends: the value as one line.
std::string unfold(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v)
    if (c != '\r' && c != '\n') out += c;
  return out;
}

// Removes comments outside quoted strings and domain literals.
std::string strip_comments(std::string_view v) {
  std::string out;
  bool quoted = false;
  int depth = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (depth == 0 && c == '"') quoted = !quoted;
    if (c == '\\' && i + 1 < v.size() && (quoted || depth > 0)) {
      if (depth == 0) out.append(v.substr(i, 2));
      ++i;
      continue;
    }
    if (!quoted && c == '(') { ++depth; out += ' '; continue; }
    if (!quoted && depth > 0 && c == ')') { --depth; continue; }
    if (depth == 0) out += c;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()))) s.remove_prefix(1);
  while (!s.empty() && (is_wsp(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_domain_name(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t label = 0;
  for (char c : d) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || u >= 0x80;
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

}  // namespace

std::string_view to_string(FromHeaderFacts::State s) {
  switch (s) {
    case FromHeaderFacts::State::ok: return "ok";
    case FromHeaderFacts::State::none: return "none";
    case FromHeaderFacts::State::several_fields: return "several_fields";
    case FromHeaderFacts::State::several_addresses: return "several_addresses";
    case FromHeaderFacts::State::malformed: return "malformed";
  }
  return "malformed";
}

FromHeaderFacts from_header_facts(const std::vector<std::string>& from_values) {
  FromHeaderFacts f;
  if (from_values.empty()) return f;
  if (from_values.size() > 1) {
    f.state = FromHeaderFacts::State::several_fields;
    return f;
  }
  const std::string value = strip_comments(from_values.front());
  // Split at commas outside quotes and angle brackets; a colon there is group syntax.
  std::vector<std::string_view> parts;
  bool quoted = false, group = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && quoted) { ++i; continue; }
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '<') ++angle;
    if (c == '>' && angle > 0) --angle;
    if (angle == 0 && c == ':') group = true;
    if (angle == 0 && c == ',') {
      parts.push_back(std::string_view(value).substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(std::string_view(value).substr(start));
  std::size_t mailboxes = 0;
  for (auto p : parts)
    if (!trim(p).empty()) ++mailboxes;
  if (group || mailboxes > 1) {
    f.state = FromHeaderFacts::State::several_addresses;
    return f;
  }
  f.state = FromHeaderFacts::State::malformed;
  if (quoted || mailboxes == 0) return f;
  std::string_view mb = trim(parts.front());
  // name-addr: the addr-spec is between the angle brackets.
  if (const auto lt = mb.rfind('<'); lt != std::string_view::npos) {
    const auto gt = mb.find('>', lt);
    if (gt == std::string_view::npos) return f;
    mb = trim(mb.substr(lt + 1, gt - lt - 1));
  }
  // The domain follows the last '@' that is not inside the quoted local part.
  std::size_t at = std::string_view::npos;
  bool q = false;
  for (std::size_t i = 0; i < mb.size(); ++i) {
    if (mb[i] == '\\' && q) { ++i; continue; }
    if (mb[i] == '"') q = !q;
    if (!q && mb[i] == '@') at = i;
  }
  if (at == std::string_view::npos || at == 0) return f;
  std::string domain;
  for (char c : trim(mb.substr(at + 1))) domain += lower(c);
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (!is_domain_name(domain)) return f;
  f.state = FromHeaderFacts::State::ok;
  f.address = std::string(mb);
  f.domain = std::move(domain);
  return f;
}

HeaderBlockScanner::HeaderBlockScanner(std::string authserv_id) : authserv_id_(std::move(authserv_id)) {}

void HeaderBlockScanner::feed(std::string_view in, std::string& out) {
  while (!in.empty()) {
    if (in_body_) {
      out.append(in);
      return;
    }
    const auto lf = in.find('\n');
    const std::string_view piece = lf == std::string_view::npos ? in : in.substr(0, lf + 1);
    in.remove_prefix(piece.size());
    if (line_passthrough_) {
      out.append(piece);
      if (lf != std::string_view::npos) line_passthrough_ = false;
      continue;
    }
    if (lf == std::string_view::npos) {
      partial_.append(piece);
      if (partial_.size() > kMaxHeldField) {
        // A line this long is not examined: out with the field it belongs to.
        // If it starts a field, the one before is complete and judged first.
        const bool continues_held_field = is_wsp(partial_.front()) && !field_passthrough_ && !field_.empty();
        if (continues_held_field) {
          pass_field_through(out);
        } else if (!is_wsp(partial_.front())) {
          end_field(out);
          note_unexamined_field(partial_);
          field_passthrough_ = true;
        }
        out.append(partial_);
        partial_.clear();
        line_passthrough_ = true;
      }
      continue;
    }
    if (partial_.empty()) {
      line(piece, out);
    } else {
      partial_.append(piece);
      std::string whole;
      whole.swap(partial_);
      line(whole, out);
    }
  }
}

void HeaderBlockScanner::line(std::string_view l, std::string& out) {
  const bool empty_line = l == "\r\n" || l == "\n";
  const bool continuation = !l.empty() && is_wsp(l.front());
  if (empty_line) {
    end_field(out);
    out.append(l);
    in_body_ = true;
    return;
  }
  if (continuation) {
    if (field_passthrough_ || field_.empty()) {
      out.append(l);
      return;
    }
    field_.append(l);
    if (field_.size() > kMaxHeldField) pass_field_through(out);
    return;
  }
  end_field(out);
  field_passthrough_ = false;
  if (field_name(l).empty()) {
    // Not a field (RFC 5322 says the header block ends with an empty line,
    // but the first line that is no field is, in practice, body): stop
    // examining, store as is.
    out.append(l);
    in_body_ = true;
    return;
  }
  field_.assign(l);
  // A first line over the bound that came whole in one piece: the same as
  // one that came in many (feed()), whatever the reads' sizes were.
  if (field_.size() > kMaxHeldField) pass_field_through(out);
}

void HeaderBlockScanner::pass_field_through(std::string& out) {
  note_unexamined_field(field_);
  out.append(field_);
  field_.clear();
  field_passthrough_ = true;
}

void HeaderBlockScanner::note_unexamined_field(std::string_view start) {
  // A From field too long to hold still counts: one such field with another
  // is "several", and alone it names no author we could read (RFC 7489
  // 6.6.1). An empty value says so to from_header_facts (malformed).
  if (!iequals(field_name(start), "From")) return;
  ++from_fields_;
  if (from_values_.size() < kMaxFromKept) from_values_.emplace_back();
}

void HeaderBlockScanner::end_field(std::string& out) {
  if (field_.empty()) return;
  const std::string_view name = field_name(field_);
  if (iequals(name, "Authentication-Results") && is_our_authentication_results(field_)) {
    ++removed_;
  } else {
    if (iequals(name, "From")) {
      ++from_fields_;
      if (from_values_.size() < kMaxFromKept)
        from_values_.push_back(unfold(std::string_view(field_).substr(field_.find(':') + 1)));
    }
    if (header_copy_.size() + field_.size() <= kMaxHeaderCopy) header_copy_.append(field_);
    out.append(field_);
  }
  field_.clear();
}

bool HeaderBlockScanner::is_our_authentication_results(std::string_view field) const {
  if (authserv_id_.empty()) return false;
  std::size_t i = skip_cfws(field, field.find(':') + 1);
  std::string id;
  if (i < field.size() && field[i] == '"') {
    for (++i; i < field.size() && field[i] != '"'; ++i) {
      if (field[i] == '\\' && i + 1 < field.size()) ++i;
      id += field[i];
    }
  } else {
    for (; i < field.size(); ++i) {
      const char c = field[i];
      if (is_wsp(c) || c == ';' || c == '(' || c == '\r' || c == '\n') break;
      id += c;
    }
  }
  return iequals(id, authserv_id_);
}

void HeaderBlockScanner::finish(std::string& out) {
  if (!partial_.empty()) {
    // A last line without LF: judge the field it ends (or continues).
    std::string last;
    last.swap(partial_);
    if (!in_body_ && !last.empty() && is_wsp(last.front()) && !field_passthrough_ && !field_.empty()) {
      field_.append(last);
      end_field(out);
    } else {
      end_field(out);
      out.append(last);
    }
  }
  end_field(out);
}

}  // namespace sluice::filters
