// dkim_header_fields.cpp — splitting a header block and choosing the
// instances h= signs.
#include "filters/dkim_header_fields.hpp"

#include "filters/dkim_tag_list.hpp"

namespace sluice::filters {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view field_name(std::string_view raw) {
  const std::size_t colon = raw.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view name = raw.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  return name;
}

}  // namespace

bool header_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::vector<HeaderField> split_header_fields(std::string_view block) {
  std::vector<HeaderField> fields;
  std::size_t pos = 0;
  std::size_t start = std::string_view::npos;  // start of the field being read
  auto close = [&](std::size_t end) {
    if (start == std::string_view::npos) return;
    const std::string_view raw = block.substr(start, end - start);
    fields.push_back({field_name(raw), raw});
    start = std::string_view::npos;
  };
  while (pos < block.size()) {
    std::size_t eol = block.find("\r\n", pos);
    const std::size_t line_end = eol == std::string_view::npos ? block.size() : eol;
    const bool continuation = block[pos] == ' ' || block[pos] == '\t';
    if (!continuation || start == std::string_view::npos) {
      close(pos >= 2 ? pos - 2 : pos);  // the previous field ended before this line's CRLF
      start = pos;
    }
    pos = eol == std::string_view::npos ? block.size() : eol + 2;
    if (eol == std::string_view::npos) {
      close(line_end);
      return fields;
    }
  }
  close(block.size() >= 2 && block.ends_with("\r\n") ? block.size() - 2 : block.size());
  return fields;
}

std::vector<const HeaderField*> select_signed_fields(const std::vector<HeaderField>& fields,
                                                     const std::vector<std::string>& signed_names) {
  std::vector<const HeaderField*> out;
  out.reserve(signed_names.size());
  std::vector<bool> used(fields.size(), false);
  for (const auto& name : signed_names) {
    const HeaderField* pick = nullptr;
    for (std::size_t i = fields.size(); i-- > 0;) {
      if (used[i] || !header_name_equals(fields[i].name, name)) continue;
      used[i] = true;
      pick = &fields[i];
      break;
    }
    out.push_back(pick);
  }
  return out;
}

std::string without_b_value(std::string_view raw) {
  const std::size_t colon = raw.find(':');
  if (colon == std::string_view::npos) return std::string(raw);
  std::size_t pos = colon + 1;
  while (pos <= raw.size()) {
    std::size_t semi = raw.find(';', pos);
    const std::size_t end = semi == std::string_view::npos ? raw.size() : semi;
    const std::string_view spec = raw.substr(pos, end - pos);
    const std::size_t eq = spec.find('=');
    if (eq != std::string_view::npos && trim_fws(spec.substr(0, eq)) == "b") {
      std::string out(raw.substr(0, pos + eq + 1));
      out.append(raw.substr(end));
      return out;
    }
    if (semi == std::string_view::npos) break;
    pos = semi + 1;
  }
  return std::string(raw);
}

}  // namespace sluice::filters
