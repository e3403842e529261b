// thread_caches.hpp — wolfSSL's per-thread state, released when a worker
// thread ends. wolfSSL (built with FP_ECC) keeps a bounded per-thread cache
// of precomputed elliptic-curve points, about 0.8 MiB per cached base point;
// it is freed only by the thread that built it.
#pragma once

namespace sluice::tls {

void release_thread_caches();

}  // namespace sluice::tls
