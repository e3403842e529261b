// idle_sessions.hpp — idle mode: open --connections connections (at most
// --connect-burst connects in flight), each reads the banner, says EHLO and
// then holds still for --duration seconds; counts how many the server closed.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "load-tests/loadgen/run_context.hpp"

namespace sluice::loadgen {

boost::asio::awaitable<void> run_idle(RunContext& ctx);

}  // namespace sluice::loadgen
