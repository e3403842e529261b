// services.hpp — what every worker and listener shares: the current config,
// the spool, the connection limits. Owned by the Gateway, outlives workers.
#pragma once
#include <atomic>
#include <memory>

#include "gateway/config.hpp"
#include "gateway/connection_limits.hpp"
#include "storage/spool.hpp"
#include "tls/context_registry.hpp"

namespace sluice::gateway {

struct Services {
  std::atomic<std::shared_ptr<const Config>> config;  // swapped on SIGHUP
  storage::Spool* spool = nullptr;
  tls::ContextRegistry* tls = nullptr;  // TLS contexts per listener (owned by the process)
  ConnectionLimits limits;
  std::atomic<std::uint64_t> next_connection_id{1};
};

}  // namespace sluice::gateway
