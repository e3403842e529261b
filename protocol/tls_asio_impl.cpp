// Asio's ssl implementation, compiled once (BOOST_ASIO_SEPARATE_COMPILATION),
// against wolfSSL's OpenSSL-compatible layer like protocol/tls_stream.cpp.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <boost/asio/ssl/impl/src.hpp>
