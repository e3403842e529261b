// Asio's separately compiled implementation for sluice-loadgen, with its SSL
// part (BOOST_ASIO_SEPARATE_COMPILATION is defined for the whole build).
#include "load-tests/loadgen/tls_asio.hpp"
#include <boost/asio/impl/src.hpp>
#include <string>
#include <boost/asio/ssl/impl/src.hpp>

const char* sluice::loadgen::tls_library_version() {
#ifdef SLUICE_LOADGEN_OPENSSL
  return OpenSSL_version(OPENSSL_VERSION);
#else
  static const std::string version = std::string("wolfSSL ") + wolfSSL_lib_version();
  return version.c_str();
#endif
}
