// ocsp_staple.hpp — one certificate's OCSP response (RFC 6960), stapled in
// the handshake when the client asks (RFC 6066 8, status_request).
//
// The response is a DER file the operator (or a cron job running
// `openssl ocsp`) keeps fresh; refresh() re-reads it when it changed (main
// thread, from the registry's file check) and swaps it in atomically. A
// response past its nextUpdate is not stapled — a stale staple is worse than
// none, as clients that check it would fail the handshake — and is logged
// once per file version. A file that does not parse is refused with a log
// line and the previous response stays.
#pragma once
#include <atomic>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

namespace sluice::tls {

struct OcspResponseFile {
  std::vector<unsigned char> der;
  std::time_t next_update = 0;  // 0: the response has none (then it never goes stale)
};

// Parses a DER OCSP response; false with `error` when it is not a successful
// basic response with one single response. When wolfSSL refuses it, the
// nextUpdate found by scan_next_update() (tls/ocsp_next_update.hpp) is in
// `out` and `error` is "stale" if that time has passed.
bool parse_ocsp_response(std::vector<unsigned char> der, OcspResponseFile& out, std::string& error);

class OcspStaple {
 public:
  OcspStaple(std::string listener, std::string path);
  void install(void* wolfssl_ctx);  // makes a WOLFSSL_CTX staple from this object
  void refresh();                   // main thread
  // For wolfSSL's OCSP lookup: the response to staple now, or nullptr.
  std::shared_ptr<const OcspResponseFile> current(std::time_t now) const;
  // Is a response there that is still fresh at `now`? No side effects.
  bool fresh(std::time_t now) const {
    auto r = response_.load();
    return r && (r->next_update == 0 || now <= r->next_update);
  }
  // The nextUpdate of the last response read that was taken into use or
  // refused as stale (a broken file leaves it as it was); 0 when none was
  // read yet or it has none. For the metrics: an alert on it going by.
  std::time_t next_update() const { return next_update_.load(std::memory_order_relaxed); }

 private:
  std::string listener_, path_, signature_;
  std::atomic<std::shared_ptr<const OcspResponseFile>> response_;
  mutable std::atomic<bool> stale_logged_{false};
  std::atomic<std::time_t> next_update_{0};
};

}  // namespace sluice::tls
