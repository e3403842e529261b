#include "metrics/tls_counters.hpp"

namespace sluice::metrics {

TlsCounters& tls_counters() {
  static TlsCounters counters;
  return counters;
}

}  // namespace sluice::metrics
