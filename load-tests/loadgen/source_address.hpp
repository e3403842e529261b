// source_address.hpp — which local address connection number i comes from.
// "--source 127.0.0.0/8 --per-source 20000": connections 0..19999 from
// 127.0.0.1, the next 20000 from 127.0.0.2, ... (the network and broadcast
// addresses are skipped); one address (no /LEN) serves every connection.
#pragma once
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::loadgen {

class SourceAddresses {
 public:
  // nullopt (and a message in `error`) when `spec` is not ADDR or IPv4 ADDR/LEN.
  static std::optional<SourceAddresses> parse(const std::string& spec, unsigned per_source, std::string& error);
  SourceAddresses() = default;
  std::optional<boost::asio::ip::address> for_connection(std::uint64_t index) const;

 private:
  std::optional<boost::asio::ip::address> single_;
  std::uint32_t first_ = 0, count_ = 0;  // IPv4 host range
  unsigned per_source_ = 1;
};

}  // namespace sluice::loadgen
