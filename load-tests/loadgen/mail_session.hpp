// mail_session.hpp — the message-sending modes (plain, pipelining,
// pipeconnect, bdat; each optionally over STARTTLS): one worker coroutine per
// --connections slot, each opening connection after connection until the run
// has claimed its --messages or reached --duration.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "load-tests/loadgen/run_context.hpp"

namespace sluice::loadgen {

boost::asio::awaitable<void> mail_worker(RunContext& ctx);

}  // namespace sluice::loadgen
