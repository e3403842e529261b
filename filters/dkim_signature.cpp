// dkim_signature.cpp — RFC 6376 3.5 tag semantics for DKIM-Signature.
#include "filters/dkim_signature.hpp"

#include <algorithm>

#include "filters/dkim_base64.hpp"
#include "filters/dkim_tag_list.hpp"

namespace sluice::filters {
namespace {

// RFC 6376 3.5: l=, t=, x= are 1*76DIGIT / 1*12DIGIT; we take at most 18
// digits so that the value fits in 64 bits (no signer writes more).
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::optional<DkimAlgorithm> parse_algorithm(std::string_view a) {
  const std::string l = to_lower(a);
  if (l == "rsa-sha256") return DkimAlgorithm::rsa_sha256;
  if (l == "rsa-sha1") return DkimAlgorithm::rsa_sha1;
  if (l == "ed25519-sha256") return DkimAlgorithm::ed25519_sha256;
  return std::nullopt;
}

std::optional<DkimCanon> parse_canon(std::string_view c) {
  const std::string l = to_lower(c);
  if (l == "simple") return DkimCanon::simple;
  if (l == "relaxed") return DkimCanon::relaxed;
  return std::nullopt;
}

// d= and s= become a DNS name: dot-separated labels of letters, digits,
// "-" and "_" (RFC 6376 3.5 domain-name / selector), so nothing odd is ever
// asked of DNS or written into a header.
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

// Fills in everything but the required-tag check; returns an error or "".
std::string read_tags(const DkimTagList& tags, DkimSignature& sig) {
  if (auto v = tags.find("v"); !v || *v != "1") return "v= missing or not 1";
  const auto a = tags.find("a");
  if (!a) return "a= missing";
  const auto alg = parse_algorithm(*a);
  if (!alg) return "unknown algorithm " + std::string(*a);
  sig.algorithm = *alg;

  const auto b = tags.find("b");
  const auto bh = tags.find("bh");
  if (!b || !bh) return "b= or bh= missing";
  sig.b_text = strip_fws(*b);
  auto b_bytes = base64_decode(sig.b_text);
  auto bh_bytes = base64_decode(strip_fws(*bh));
  if (!b_bytes || b_bytes->empty()) return "b= is not base64";
  if (!bh_bytes || bh_bytes->empty()) return "bh= is not base64";
  sig.signature = std::move(*b_bytes);
  sig.body_hash = std::move(*bh_bytes);

  if (auto c = tags.find("c")) {
    const std::size_t slash = c->find('/');
    const auto header = parse_canon(c->substr(0, slash));
    const auto body = slash == std::string_view::npos ? std::optional(DkimCanon::simple)
                                                      : parse_canon(c->substr(slash + 1));
    if (!header || !body) return "unknown canonicalization " + std::string(*c);
    sig.header_canon = *header;
    sig.body_canon = *body;
  }

  const auto d = tags.find("d");
  const auto s = tags.find("s");
  const auto h = tags.find("h");
  if (!d || d->empty()) return "d= missing";
  if (!s || s->empty()) return "s= missing";
  if (!h || h->empty()) return "h= missing";
  sig.domain = to_lower(*d);
  if (!is_dns_name(sig.domain)) return "d= is not a domain name";
  if (!is_dns_name(*s)) return "s= is not a selector";
  sig.selector = std::string(*s);
  for (auto name : split_colon_list(*h)) {
    if (name.empty()) return "empty name in h=";
    sig.signed_headers.push_back(to_lower(name));
  }
  // RFC 6376 5.4: From MUST be signed; 6.1.1: verifiers MUST check.
  if (std::find(sig.signed_headers.begin(), sig.signed_headers.end(), "from") ==
      sig.signed_headers.end())
    return "h= does not include From";

  if (auto i = tags.find("i")) {
    sig.identity = std::string(*i);
    if (sig.identity.find('@') == std::string::npos) return "i= has no @";
    // 6.1.1: the i= domain must be d= or a subdomain of it.
    if (!is_same_or_subdomain(identity_domain(sig.identity), sig.domain))
      return "i= domain is not within d=";
  } else {
    sig.identity = "@" + sig.domain;
  }

  if (auto l = tags.find("l")) {
    sig.body_length = parse_decimal(*l, 18);
    if (!sig.body_length) return "l= is not a number";
  }
  if (auto t = tags.find("t")) {
    sig.timestamp = parse_decimal(*t, 12);
    if (!sig.timestamp) return "t= is not a number";
  }
  if (auto x = tags.find("x")) {
    sig.expiration = parse_decimal(*x, 12);
    if (!sig.expiration) return "x= is not a number";
    if (sig.timestamp && *sig.expiration < *sig.timestamp) return "x= is before t=";
  }
  if (auto q = tags.find("q")) {
    // 3.5: a colon-separated list of methods; dns/txt is the only one.
    bool dns_txt = false;
    for (auto m : split_colon_list(*q))
      if (to_lower(m.substr(0, m.find('/'))) == "dns" &&
          (m.find('/') == std::string_view::npos || to_lower(m.substr(m.find('/') + 1)) == "txt"))
        dns_txt = true;
    if (!dns_txt) return "q= offers no dns/txt";
  }
  return "";
}

}  // namespace

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view to_string(DkimAlgorithm algorithm) {
  switch (algorithm) {
    case DkimAlgorithm::rsa_sha1: return "rsa-sha1";
    case DkimAlgorithm::rsa_sha256: return "rsa-sha256";
    case DkimAlgorithm::ed25519_sha256: return "ed25519-sha256";
  }
  return "?";
}

DkimHash hash_of(DkimAlgorithm algorithm) {
  return algorithm == DkimAlgorithm::rsa_sha1 ? DkimHash::sha1 : DkimHash::sha256;
}

DkimKeyType key_type_of(DkimAlgorithm algorithm) {
  return algorithm == DkimAlgorithm::ed25519_sha256 ? DkimKeyType::ed25519 : DkimKeyType::rsa;
}

std::string_view identity_domain(std::string_view identity) {
  const std::size_t at = identity.rfind('@');
  return at == std::string_view::npos ? identity : identity.substr(at + 1);
}

bool is_same_or_subdomain(std::string_view sub, std::string_view parent) {
  const std::string s = to_lower(sub);
  const std::string p = to_lower(parent);
  if (s == p) return true;
  return s.size() > p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0 &&
         s[s.size() - p.size() - 1] == '.';
}

DkimSignatureParse parse_dkim_signature(std::string_view value) {
  DkimSignatureParse out;
  auto parsed = parse_tag_list(value);
  if (!parsed.list) {
    out.error = parsed.error;
    return out;
  }
  DkimSignature sig;
  out.error = read_tags(*parsed.list, sig);
  if (out.error.empty()) out.signature = std::move(sig);
  return out;
}

}  // namespace sluice::filters
