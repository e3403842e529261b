#include "tls/thread_caches.hpp"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

namespace sluice::tls {

void release_thread_caches() {
#ifdef FP_ECC
  wc_ecc_fp_free();
#endif
}

}  // namespace sluice::tls
