// The one translation unit that compiles Asio's implementation
// (BOOST_ASIO_SEPARATE_COMPILATION is defined for the whole build), so the
// rest of the code includes only declarations and builds fast.
#include <boost/asio/impl/src.hpp>
