#include "metrics/server_counters.hpp"

namespace sluice::metrics {

ServerCounters& server_counters() {
  static ServerCounters counters;
  return counters;
}

}  // namespace sluice::metrics
