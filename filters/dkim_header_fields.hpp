// dkim_header_fields.hpp — a message's header block as DKIM sees it: fields
// in order, with their folding kept (RFC 6376 3.4.1 simple canonicalization
// needs the bytes as they came), and the h= selection rule (RFC 6376 5.4.2:
// repeated names are taken from the bottom up; a name with no instance left
// contributes nothing, which is how signers "over-sign").
//
// Contract: the block is the header section up to, not including, the empty
// line; lines end in CRLF. A line that starts with SP or HTAB continues the
// field above it. A line with no colon is kept (simple canonicalization
// still sees it) but never matches a name in h=.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sluice::filters {

struct HeaderField {
  std::string_view name;  // before the colon, trailing WSP removed; "" when no colon
  std::string_view raw;   // the whole field, folds included, final CRLF excluded
};

std::vector<HeaderField> split_header_fields(std::string_view block);

// For each name in `signed_names` (lower-case), the field it signs, or
// nullptr for a name with no instance left.
std::vector<const HeaderField*> select_signed_fields(const std::vector<HeaderField>& fields,
                                                     const std::vector<std::string>& signed_names);

// `raw` (a DKIM-Signature field) with the value of its b= tag removed,
// surrounding whitespace included (RFC 6376 3.7: "with the value of the b=
// tag (including all surrounding whitespace) deleted").
std::string without_b_value(std::string_view raw);

// Case-insensitive ASCII comparison of header names.
bool header_name_equals(std::string_view a, std::string_view b);

}  // namespace sluice::filters
