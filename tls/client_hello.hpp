// client_hello.hpp — the few facts about a TLS ClientHello that the logs
// want and wolfSSL does not tell: did the client ask for a session ticket
// (RFC 5077 3.2 empty session_ticket extension, or RFC 8446 4.2.9
// psk_key_exchange_modes) and did it offer one (non-empty session_ticket,
// or pre_shared_key), and can it take an ECDSA certificate (to choose
// between an RSA and an ECDSA certificate for the same name). Pure,
// bounds-checked; a malformed message gives {}.
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
  // A TLS 1.3 cipher suite or a TLS 1.2 ECDHE_ECDSA one, ECDSA among
  // signature_algorithms (RFC 8446 4.2.3; absent in TLS 1.2 means the
  // suite's own, RFC 5246 7.4.1.4.1) and a NIST curve among supported_groups
  // (RFC 8422 5.1.1; absent means any).
  bool takes_ecdsa = false;
};

// `msg` is the handshake message, with or without its 4-byte header.
ClientHelloFacts scan_client_hello(std::span<const std::uint8_t> msg);

}  // namespace sluice::tls
