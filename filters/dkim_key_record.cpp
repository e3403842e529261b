// dkim_key_record.cpp — RFC 6376 3.6.1 key record tags.
#include "filters/dkim_key_record.hpp"

#include "filters/dkim_base64.hpp"
#include "filters/dkim_tag_list.hpp"

namespace sluice::filters {
namespace {

std::string read_tags(const DkimTagList& tags, DkimKeyRecord& key) {
  // 3.6.1: v= is optional, but if present it MUST be the first tag and be "DKIM1".
  if (auto v = tags.find("v")) {
    if (tags.tags.front().name != "v") return "v= is not the first tag";
    if (*v != "DKIM1") return "v= is not DKIM1";
  }
  if (auto h = tags.find("h")) {
    key.allows_sha1 = key.allows_sha256 = false;
    for (auto alg : split_colon_list(*h)) {
      const std::string l = to_lower(alg);
      if (l == "sha1") key.allows_sha1 = true;
      if (l == "sha256") key.allows_sha256 = true;
    }
    if (!key.allows_sha1 && !key.allows_sha256) return "h= names no known hash";
  }
  if (auto k = tags.find("k")) {
    const std::string l = to_lower(*k);
    if (l == "rsa") key.type = DkimKeyType::rsa;
    else if (l == "ed25519") key.type = DkimKeyType::ed25519;
    else return "unknown key type k=" + std::string(*k);
  }
  if (auto n = tags.find("n")) key.notes = std::string(*n);
  const auto p = tags.find("p");
  if (!p) return "p= missing";
  auto bytes = base64_decode(strip_fws(*p));
  if (!bytes) return "p= is not base64";
  key.public_key = std::move(*bytes);
  if (auto s = tags.find("s")) {
    key.email_service = false;
    for (auto service : split_colon_list(*s))
      if (service == "*" || to_lower(service) == "email") key.email_service = true;
  }
  if (auto t = tags.find("t")) {
    for (auto flag : split_colon_list(*t)) {
      if (flag == "y") key.testing = true;
      if (flag == "s") key.strict_identity = true;
    }
  }
  return "";
}

}  // namespace

DkimKeyRecordParse parse_dkim_key_record(std::string_view text) {
  DkimKeyRecordParse out;
  auto parsed = parse_tag_list(text);
  if (!parsed.list) {
    out.error = parsed.error;
    return out;
  }
  if (parsed.list->tags.empty()) {
    out.error = "empty key record";
    return out;
  }
  DkimKeyRecord key;
  out.error = read_tags(*parsed.list, key);
  if (out.error.empty()) out.record = std::move(key);
  return out;
}

}  // namespace sluice::filters
