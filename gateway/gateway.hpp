// gateway.hpp — the process: workers, listeners, spool, signals.
//
// run() blocks until the gateway has stopped:
//   SIGTERM/SIGINT  drain: stop accepting, let transactions in flight finish
//                   up to timeouts.drain, then 421 4.3.2 to the rest, exit 0.
//   SIGHUP          reload the config file; a config with problems is refused
//                   (logged) and the old one stays. Limits, lists and
//                   listeners (added or removed) take effect; sessions in
//                   progress keep the config they started with. The worker
//                   count and the spool need a restart.
// Start-up errors (bind, spool) throw std::runtime_error naming the step.
#pragma once
#include <string>

#include "gateway/config.hpp"

namespace sluice::gateway {

// config_path empty: the embedded default, and SIGHUP re-reads nothing.
int run_gateway(ConfigPtr config, const std::string& config_path);

}  // namespace sluice::gateway
