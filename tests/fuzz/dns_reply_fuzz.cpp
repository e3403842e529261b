// dns_reply_fuzz.cpp — libFuzzer target for the DNS reply reader
// (filters/dns_reply): the bytes a DNS server (or anyone who can spoof one)
// sends back, read by our own bounds-checked walk for TTLs, the SOA and
// CNAMEs, and by c-ares's parsers for TXT and MX.
//
// The first byte picks the record type asked for and the status c-ares
// reported; the rest is the reply. Properties, not only crashes: an answer
// holds only data of the type asked for; an ok answer has some and a TTL no
// longer than kMaxPositiveTtl; a negative answer's TTL is within the
// operator's cap; an A answer's addresses are in IPv4-mapped form; PTR names
// are lower-case. Any violation aborts so the fuzzer keeps the input.
#include <ares.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "filters/dns_reply.hpp"

namespace {

using namespace sluice::filters;

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr DnsType kTypes[] = {DnsType::A, DnsType::AAAA, DnsType::MX, DnsType::TXT, DnsType::PTR};
constexpr int kStatuses[] = {ARES_SUCCESS, ARES_ENODATA, ARES_ENOTFOUND};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const DnsType type = kTypes[data[0] % 5];
  const int status = kStatuses[(data[0] / 5) % 3];
  const auto cap = std::chrono::seconds(900);
  const DnsAnswer a = parse_reply(status, data + 1, static_cast<int>(size - 1), type, cap);

  const bool addresses = type == DnsType::A || type == DnsType::AAAA;
  check(addresses || a.addresses.empty());
  check(type == DnsType::TXT || a.texts.empty());
  check(type == DnsType::MX || a.mx.empty());
  check(type == DnsType::PTR || a.names.empty());
  if (type == DnsType::A)
    for (const auto& ip : a.addresses) check(ip[10] == 0xff && ip[11] == 0xff);
  for (const auto& name : a.names)
    for (char c : name) check(!(c >= 'A' && c <= 'Z'));
  switch (a.status) {
    case DnsStatus::ok:
      check(status == ARES_SUCCESS);
      check(!a.addresses.empty() || !a.texts.empty() || !a.mx.empty() || !a.names.empty());
      check(a.ttl <= kMaxPositiveTtl);
      break;
    case DnsStatus::nxdomain:
    case DnsStatus::nodata:
      check(a.ttl <= 900);
      check(a.addresses.empty() && a.texts.empty() && a.mx.empty() && a.names.empty());
      break;
    default:
      check(a.ttl == 0 && !a.error.empty());
      check(a.addresses.empty() && a.texts.empty() && a.mx.empty() && a.names.empty());
  }
  check(status != ARES_ENOTFOUND || a.status == DnsStatus::nxdomain);
  return 0;
}
