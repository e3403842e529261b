// config_policy.hpp — [[policy]] tables (gateway::PolicyRule): the operator's
// rules on the filters' results (docs/filters.md, "Policy").
#pragma once
#include <chrono>
#include <vector>

#include "gateway/config.hpp"
#include "gateway/config_values.hpp"

namespace sluice::gateway {

void read_policy(TableReader& top, std::chrono::milliseconds recheck, std::vector<PolicyRule>& out);

}  // namespace sluice::gateway
