// client_hello.hpp — the few facts about a TLS ClientHello that the logs
// want and wolfSSL does not tell: did the client ask for a session ticket
// (RFC 5077 3.2 empty session_ticket extension, or RFC 8446 4.2.9
// psk_key_exchange_modes) and did it offer one (non-empty session_ticket,
// or pre_shared_key). Pure, bounds-checked; a malformed message gives {}.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace sluice::tls {

struct ClientHelloFacts {
  bool parsed = false;
  bool asks_ticket = false;
  bool offers_ticket = false;
  bool asks_ocsp = false;  // status_request (RFC 6066 8)
};

// `msg` is the handshake message, with or without its 4-byte header.
ClientHelloFacts scan_client_hello(std::span<const std::uint8_t> msg);

}  // namespace sluice::tls
