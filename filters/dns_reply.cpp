#include "filters/dns_reply.hpp"

#include <ares.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace sluice::filters {

namespace {

constexpr std::uint16_t kTypeCname = 5;
constexpr std::uint16_t kTypeSoa = 6;
constexpr std::uint16_t kClassIn = 1;

enum class Section { answer, authority };

struct Record {
  Section section;
  std::uint16_t type;
  std::uint16_t cls;
  std::uint32_t ttl;
  const unsigned char* data;
  int length;
};

std::uint16_t read16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t read32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// A name in the reply, expanded (compression pointers followed by c-ares,
// which bounds them). Lower-cased; c-ares gives no trailing dot.
std::optional<std::string> expand_name(const unsigned char* at, const unsigned char* reply, int length,
                                       long& consumed) {
  char* name = nullptr;
  if (ares_expand_name(at, reply, length, &name, &consumed) != ARES_SUCCESS) return std::nullopt;
  std::string out(name);
  ares_free_string(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// RFC 1035 4.1: header, questions, then answer and authority records.
std::optional<std::vector<Record>> walk(const unsigned char* reply, int length) {
  if (!reply || length < 12) return std::nullopt;
  const unsigned questions = read16(reply + 4), answers = read16(reply + 6), authority = read16(reply + 8);
  const unsigned char* p = reply + 12;
  const unsigned char* end = reply + length;
  for (unsigned i = 0; i < questions; ++i) {
    long used = 0;
    if (!expand_name(p, reply, length, used)) return std::nullopt;
    if (end - p < used + 4) return std::nullopt;
    p += used + 4;
  }
  std::vector<Record> out;
  for (unsigned i = 0; i < answers + authority; ++i) {
    long used = 0;
    if (!expand_name(p, reply, length, used)) return std::nullopt;
    if (end - p < used + 10) return std::nullopt;
    p += used;
    Record r{i < answers ? Section::answer : Section::authority, read16(p), read16(p + 2), read32(p + 4),
             p + 10, read16(p + 8)};
    // RFC 2181 8: a TTL with the top bit set is read as zero.
    if (r.ttl & 0x80000000u) r.ttl = 0;
    p += 10;
    if (end - p < r.length) return std::nullopt;
    p += r.length;
    out.push_back(r);
  }
  return out;
}

// RFC 2308 5: a negative answer lives min(SOA TTL, SOA MINIMUM), capped here
// by the operator's negative_ttl; without an SOA, negative_ttl itself.
std::uint32_t negative_ttl_of(const std::vector<Record>& records, const unsigned char* reply, int length,
                              std::chrono::seconds cap) {
  const auto cap_s = static_cast<std::uint32_t>(cap.count());
  for (const auto& r : records) {
    if (r.section != Section::authority || r.type != kTypeSoa || r.cls != kClassIn) continue;
    long used1 = 0, used2 = 0;
    if (!expand_name(r.data, reply, length, used1)) continue;
    if (used1 >= r.length || !expand_name(r.data + used1, reply, length, used2)) continue;
    if (r.length - used1 - used2 != 20) continue;  // serial refresh retry expire minimum
    const std::uint32_t minimum = read32(r.data + used1 + used2 + 16);
    return std::min({r.ttl, minimum, cap_s});
  }
  return cap_s;
}

void take_addresses(const std::vector<Record>& records, DnsType type, DnsAnswer& out) {
  for (const auto& r : records) {
    if (r.section != Section::answer || r.type != static_cast<std::uint16_t>(type) || r.cls != kClassIn) continue;
    gateway::IpBytes ip{};
    if (type == DnsType::A && r.length == 4) {
      ip[10] = ip[11] = 0xff;
      std::memcpy(ip.data() + 12, r.data, 4);
    } else if (type == DnsType::AAAA && r.length == 16) {
      std::memcpy(ip.data(), r.data, 16);
    } else {
      continue;
    }
    out.addresses.push_back(ip);
  }
}

void take_ptr(const std::vector<Record>& records, const unsigned char* reply, int length, DnsAnswer& out) {
  for (const auto& r : records) {
    if (r.section != Section::answer || r.type != static_cast<std::uint16_t>(DnsType::PTR)) continue;
    long used = 0;
    if (auto name = expand_name(r.data, reply, length, used); name && used == r.length)
      out.names.push_back(std::move(*name));
  }
}

int take_txt(const unsigned char* reply, int length, DnsAnswer& out) {
  ares_txt_ext* list = nullptr;
  const int rc = ares_parse_txt_reply_ext(reply, length, &list);
  if (rc != ARES_SUCCESS) return rc;
  for (ares_txt_ext* t = list; t; t = t->next) {
    if (t->record_start || out.texts.empty()) out.texts.emplace_back();
    std::string piece(reinterpret_cast<const char*>(t->txt), t->length);
    out.texts.back().text += piece;
    out.texts.back().strings.push_back(std::move(piece));
  }
  ares_free_data(list);
  return ARES_SUCCESS;
}

int take_mx(const unsigned char* reply, int length, DnsAnswer& out) {
  ares_mx_reply* list = nullptr;
  const int rc = ares_parse_mx_reply(reply, length, &list);
  if (rc != ARES_SUCCESS) return rc;
  for (ares_mx_reply* m = list; m; m = m->next) {
    std::string host(m->host);
    for (char& c : host)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.mx.push_back({m->priority, std::move(host)});
  }
  ares_free_data(list);
  return ARES_SUCCESS;
}

DnsAnswer failure(DnsStatus status, std::string why) {
  DnsAnswer a;
  a.status = status;
  a.error = std::move(why);
  return a;
}

}  // namespace

DnsAnswer parse_reply(int ares_status, const unsigned char* reply, int length, DnsType type,
                      std::chrono::seconds negative_ttl) {
  switch (ares_status) {
    case ARES_SUCCESS: break;
    case ARES_ENOTFOUND:
    case ARES_ENODATA: {
      DnsAnswer a;
      a.status = ares_status == ARES_ENOTFOUND ? DnsStatus::nxdomain : DnsStatus::nodata;
      auto records = walk(reply, length);
      a.ttl = records ? negative_ttl_of(*records, reply, length, negative_ttl)
                      : static_cast<std::uint32_t>(negative_ttl.count());
      return a;
    }
    case ARES_ESERVFAIL: return failure(DnsStatus::servfail, "server failure");
    case ARES_EREFUSED: return failure(DnsStatus::servfail, "refused");
    case ARES_ETIMEOUT: return failure(DnsStatus::timeout, "timed out");
    default: return failure(DnsStatus::error, ares_strerror(ares_status));
  }

  auto records = walk(reply, length);
  if (!records) return failure(DnsStatus::error, "malformed reply");
  DnsAnswer a;
  a.status = DnsStatus::ok;
  for (const auto& r : *records) {
    if (r.section != Section::answer || r.type != kTypeCname || r.cls != kClassIn) continue;
    // The record's data is the name and nothing else (RFC 1035 3.3.1): a
    // name that ends before or runs past it is not taken.
    long used = 0;
    if (auto target = expand_name(r.data, reply, length, used); target && used == r.length)
      a.canonical_name = std::move(*target);
  }
  int rc = ARES_SUCCESS;
  switch (type) {
    case DnsType::A:
    case DnsType::AAAA: take_addresses(*records, type, a); break;
    case DnsType::PTR: take_ptr(*records, reply, length, a); break;
    case DnsType::TXT: rc = take_txt(reply, length, a); break;
    case DnsType::MX: rc = take_mx(reply, length, a); break;
  }
  if (rc != ARES_SUCCESS && rc != ARES_ENODATA) return failure(DnsStatus::error, ares_strerror(rc));
  if (a.addresses.empty() && a.texts.empty() && a.mx.empty() && a.names.empty()) {
    // Only a CNAME, or records of other types: no data for this type.
    a.status = DnsStatus::nodata;
    a.ttl = negative_ttl_of(*records, reply, length, negative_ttl);
    return a;
  }
  std::uint32_t ttl = kMaxPositiveTtl;
  for (const auto& r : *records)
    if (r.section == Section::answer) ttl = std::min(ttl, r.ttl);
  a.ttl = ttl;
  return a;
}

}  // namespace sluice::filters
