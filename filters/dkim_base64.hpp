// dkim_base64.hpp — strict base64 (RFC 4648 4, with padding) for DKIM's b=,
// bh= and p= values, once FWS has been removed. Kept out of the crypto code
// so the sans-I/O parsers (and their fuzz targets) need no crypto library.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace sluice::filters {

// nullopt for characters outside the alphabet, a length that is not a
// multiple of 4, or padding anywhere but the end.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace sluice::filters
