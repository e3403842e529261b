// Asio's separately compiled implementation for sluice-loadgen, with its SSL
// part (BOOST_ASIO_SEPARATE_COMPILATION is defined for the whole build).
#include "load-tests/loadgen/wolfssl_asio.hpp"
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
