// wolfssl_asio.hpp — the one way this program includes Asio's SSL layer:
// wolfSSL's build options first (they change its struct layouts), then Asio,
// which BOOST_ASIO_USE_WOLFSSL points at wolfSSL's OpenSSL-compatible API.
#pragma once
#include <wolfssl/options.h>
#include <boost/asio/ssl.hpp>
