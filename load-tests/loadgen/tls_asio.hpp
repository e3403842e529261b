// tls_asio.hpp — the one way this program includes Asio's SSL layer. It is
// built twice (load-tests/loadgen/CMakeLists.txt): sluice-loadgen on wolfSSL,
// whose build options come first (they change its struct layouts) and whose
// OpenSSL-compatible API BOOST_ASIO_USE_WOLFSSL points Asio at; and
// sluice-loadgen-openssl (SLUICE_LOADGEN_OPENSSL) on OpenSSL's own libssl,
// the library most senders on the Internet use, and one whose client-side
// handshake costs a shared benchmark machine less (docs/benchmarks.md 8.9).
#pragma once
#ifndef SLUICE_LOADGEN_OPENSSL
#include <wolfssl/options.h>
#endif
#include <boost/asio/ssl.hpp>

namespace sluice::loadgen {

// "wolfSSL 5.5.4" or "OpenSSL 3.0.x ...", for the report.
const char* tls_library_version();

}  // namespace sluice::loadgen
