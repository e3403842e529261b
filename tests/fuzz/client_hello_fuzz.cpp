// client_hello_fuzz.cpp — libFuzzer target for tls::scan_client_hello(),
// which reads bytes a client sent before any TLS check (MSG_PEEK of the
// ClientHello). Beyond "no crash, no out-of-bounds read" (ASan), it checks
// that a result is all-or-nothing: an input that did not parse says nothing.
#include <cstddef>
#include <cstdint>
#include <span>

#include "tls/client_hello.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto f = sluice::tls::scan_client_hello(std::span<const std::uint8_t>(data, size));
  if (!f.parsed && (f.asks_ticket || f.offers_ticket || f.asks_ocsp)) __builtin_trap();
  return 0;
}
