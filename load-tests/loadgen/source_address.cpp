#include "load-tests/loadgen/source_address.hpp"

#include <charconv>

namespace sluice::loadgen {

std::optional<SourceAddresses> SourceAddresses::parse(const std::string& spec, unsigned per_source,
                                                      std::string& error) {
  SourceAddresses s;
  s.per_source_ = per_source;
  if (spec.empty()) return s;
  auto slash = spec.find('/');
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(spec.substr(0, slash), ec);
  if (ec) {
    error = "bad --source address '" + spec + "'";
    return std::nullopt;
  }
  if (slash == std::string::npos) {
    s.single_ = addr;
    return s;
  }
  unsigned len = 0;
  auto text = std::string_view(spec).substr(slash + 1);
  auto [end, pec] = std::from_chars(text.data(), text.data() + text.size(), len);
  if (!addr.is_v4() || pec != std::errc() || end != text.data() + text.size() || len < 8 || len > 30) {
    error = "bad --source '" + spec + "' (IPv4 ADDR/LEN with LEN 8..30)";
    return std::nullopt;
  }
  std::uint32_t mask = ~std::uint32_t{0} << (32 - len);
  s.first_ = (addr.to_v4().to_uint() & mask) + 1;
  s.count_ = (~mask) - 1;  // without the network and broadcast addresses
  return s;
}

std::optional<boost::asio::ip::address> SourceAddresses::for_connection(std::uint64_t index) const {
  if (single_) return single_;
  if (count_ == 0) return std::nullopt;
  auto n = static_cast<std::uint32_t>((index / per_source_) % count_);
  return boost::asio::ip::address(boost::asio::ip::address_v4(first_ + n));
}

}  // namespace sluice::loadgen
