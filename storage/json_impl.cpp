// json_impl.cpp — Boost.JSON compiled once, here (header-only mode), so the
// files that read queue records include only its declarations.
#include <boost/json/src.hpp>
