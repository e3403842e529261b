// dkim_tag_list.hpp — the "tag=value; ..." syntax shared by DKIM-Signature
// fields and DKIM key records (RFC 6376 3.2). Sans-I/O, no allocation beyond
// the result vector; views point into the caller's text.
//
// Contract: parse_tag_list() accepts exactly RFC 6376 3.2's grammar with
// folding whitespace (SP, HTAB, CR, LF) around names, "=" and values, and an
// optional trailing ";". A tag named twice is an error (3.2: "Tags with
// duplicate names MUST NOT occur"), as is a bad name or a value character
// outside VALCHAR. Values keep their inner whitespace; the trailing and
// leading FWS is trimmed. Case of names is kept (tag names are case-sensitive).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::filters {

struct DkimTag {
  std::string_view name;
  std::string_view value;
};

struct DkimTagList {
  std::vector<DkimTag> tags;  // in the order they appear

  // The value of `name`, or nullopt when the tag is absent.
  std::optional<std::string_view> find(std::string_view name) const;
};

struct DkimTagListResult {
  std::optional<DkimTagList> list;  // nullopt on a syntax error
  std::string error;                // why, for logs and results
};

DkimTagListResult parse_tag_list(std::string_view text);

// Folding whitespace as DKIM uses it (RFC 6376 2.8: SP, HTAB, and the CR LF
// of folded lines).
constexpr bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// `text` without any FWS (for base64 values: b=, bh=, p=, RFC 6376 3.5).
std::string strip_fws(std::string_view text);

// Splits a colon-separated list (h=, key h= and t=), trimming FWS around
// each element; empty elements are kept so callers can reject them.
std::vector<std::string_view> split_colon_list(std::string_view text);

std::string_view trim_fws(std::string_view text);

}  // namespace sluice::filters
