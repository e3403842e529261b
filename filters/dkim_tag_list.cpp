// dkim_tag_list.cpp — RFC 6376 3.2 tag-list parsing.
#include "filters/dkim_tag_list.hpp"

namespace sluice::filters {
namespace {

constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

// tag-name = ALPHA *ALNUMPUNC, ALNUMPUNC = ALPHA / DIGIT / "_"
bool valid_name(std::string_view name) {
  if (name.empty() || !is_alpha(name.front())) return false;
  for (char c : name)
    if (!is_alpha(c) && !is_digit(c) && c != '_') return false;
  return true;
}

// VALCHAR = %x21-3A / %x3C-7E, separated by runs of FWS. A CR or LF is only
// allowed as part of a fold (CRLF followed by WSP) but a lone one is harmless
// to accept: the header field splitter has already decided line ends.
bool valid_value(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (is_fws(c)) continue;
    if (u < 0x21 || u > 0x7e || c == ';') return false;
  }
  return true;
}

}  // namespace

std::string_view trim_fws(std::string_view text) {
  while (!text.empty() && is_fws(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_fws(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<std::string_view> DkimTagList::find(std::string_view name) const {
  for (const auto& t : tags)
    if (t.name == name) return t.value;
  return std::nullopt;
}

DkimTagListResult parse_tag_list(std::string_view text) {
  DkimTagListResult out;
  DkimTagList list;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t semi = text.find(';', pos);
    const std::size_t end = semi == std::string_view::npos ? text.size() : semi;
    const std::string_view spec = text.substr(pos, end - pos);
    const bool last = semi == std::string_view::npos;
    if (trim_fws(spec).empty()) {
      // Only the final spec may be empty (the optional trailing ";"); an
      // empty spec between two ";" is not in the grammar.
      if (!last) {
        out.error = "empty tag-spec";
        return out;
      }
      break;
    }
    const std::size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      out.error = "tag-spec without '='";
      return out;
    }
    const std::string_view name = trim_fws(spec.substr(0, eq));
    const std::string_view value = trim_fws(spec.substr(eq + 1));
    if (!valid_name(name)) {
      out.error = "bad tag name";
      return out;
    }
    if (!valid_value(value)) {
      out.error = "bad character in value of tag " + std::string(name);
      return out;
    }
    if (list.find(name)) {
      out.error = "duplicate tag " + std::string(name);
      return out;
    }
    list.tags.push_back({name, value});
    if (last) break;
    pos = semi + 1;
  }
  out.list = std::move(list);
  return out;
}

std::string strip_fws(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (!is_fws(c)) out.push_back(c);
  return out;
}

std::vector<std::string_view> split_colon_list(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t colon = text.find(':', pos);
    const std::size_t end = colon == std::string_view::npos ? text.size() : colon;
    out.push_back(trim_fws(text.substr(pos, end - pos)));
    if (colon == std::string_view::npos) break;
    pos = colon + 1;
  }
  return out;
}

}  // namespace sluice::filters
