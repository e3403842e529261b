#include "tls/ocsp_staple.hpp"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/ocsp.h>
#include <wolfssl/wolfcrypt/types.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/log.hpp"
#include "metrics/tls_counters.hpp"
#include "tls/asn1_time.hpp"
#include "tls/file_signature.hpp"
#include "tls/ocsp_next_update.hpp"

namespace sluice::tls {

namespace fs = std::filesystem;
using metrics::TlsCounters;

namespace {

constexpr std::uintmax_t kMaxOcspBytes = 64 * 1024;

// wolfSSL asks for the certificate's OCSP response as if it were fetching it
// from a responder (the override URL below is never contacted): we answer
// from memory. wolfSSL verifies the response against the issuer, caches it
// until its nextUpdate and staples it when a client sends status_request.
// (Its OpenSSL-style status callback is not used: in wolfSSL 5.5 that path
// leaks an X509 each time it runs, i.e. on every handshake while no staple
// is available.)
int ocsp_lookup(void* ctx, const char* /*url*/, int /*url_size*/, unsigned char* /*request*/, int /*request_size*/,
                unsigned char** response) {
  auto* staple = static_cast<OcspStaple*>(ctx);
  auto r = staple ? staple->current(std::time(nullptr)) : nullptr;
  if (!r) return -1;  // no staple: the handshake goes on without one
  auto* copy = static_cast<unsigned char*>(std::malloc(r->der.size()));
  if (!copy) return -1;
  std::memcpy(copy, r->der.data(), r->der.size());
  *response = copy;
  TlsCounters::add(metrics::tls_counters().ocsp_lookups);
  return static_cast<int>(r->der.size());
}

void ocsp_free(void* /*ctx*/, unsigned char* response) { std::free(response); }

}  // namespace

bool parse_ocsp_response(std::vector<unsigned char> der, OcspResponseFile& out, std::string& error) {
  const unsigned char* p = der.data();
  OcspResponse* resp = wolfSSL_d2i_OCSP_RESPONSE(nullptr, &p, static_cast<int>(der.size()));
  if (!resp) {
    // wolfSSL's decoder also refuses a response past its nextUpdate: say which.
    const std::time_t next = scan_next_update(der);
    out.next_update = next;
    error = next != 0 && next < std::time(nullptr) ? "stale" : "not a DER OCSP response";
    return false;
  }
  bool ok = false;
  if (wolfSSL_OCSP_response_status(resp) != OCSP_SUCCESSFUL) {
    error = "OCSP response status is not successful";
  } else if (WOLFSSL_OCSP_BASICRESP* basic = wolfSSL_OCSP_response_get1_basic(resp)) {
    WOLFSSL_OCSP_SINGLERESP* single = wolfSSL_OCSP_resp_get0(basic, 0);
    WOLFSSL_ASN1_TIME *revtime = nullptr, *thisupd = nullptr, *nextupd = nullptr;
    int reason = 0;
    if (!single) {
      error = "OCSP response holds no certificate status";
    } else {
      wolfSSL_OCSP_single_get0_status(single, &reason, &revtime, &thisupd, &nextupd);
      out.next_update = unix_time_of(nextupd);
      ok = true;
    }
    wolfSSL_OCSP_BASICRESP_free(basic);
  } else {
    error = "not a basic OCSP response";
  }
  wolfSSL_OCSP_RESPONSE_free(resp);
  if (ok) out.der = std::move(der);
  return ok;
}

OcspStaple::OcspStaple(std::string listener, std::string path) : listener_(std::move(listener)), path_(std::move(path)) {}

void OcspStaple::install(void* wolfssl_ctx) {
  auto* ctx = static_cast<WOLFSSL_CTX*>(wolfssl_ctx);
  wolfSSL_CTX_EnableOCSPStapling(ctx);
  wolfSSL_CTX_EnableOCSP(ctx, WOLFSSL_OCSP_URL_OVERRIDE);
  wolfSSL_CTX_SetOCSP_OverrideURL(ctx, "http://ocsp.sluice.invalid/");
  wolfSSL_CTX_SetOCSP_Cb(ctx, ocsp_lookup, ocsp_free, this);
}

void OcspStaple::refresh() {
  // A response that was fresh when read goes stale with time: sessions stop
  // being offered it (ServerContext picks the non-stapling context); say so once.
  if (auto r = response_.load(); r && r->next_update != 0 && std::time(nullptr) > r->next_update &&
                                 !stale_logged_.exchange(true)) {
    TlsCounters::add(metrics::tls_counters().ocsp_stale_skipped);
    gateway::log_warn("tls_ocsp_stale").field("listener", listener_).field("file", path_)
        .field("next_update", static_cast<std::int64_t>(r->next_update)).field("effect", "not stapled");
  }
  const std::string sig = file_signature({path_});
  if (sig == signature_) return;
  // The first read (at start, on SIGHUP, or when the certificate's context
  // is rebuilt) is not a reload: sluice_tls_file_reloads_total counts files
  // that changed on disk, as it does for certificates and ticket keys.
  const bool reread = !signature_.empty();
  signature_ = sig;
  std::string error;
  std::vector<unsigned char> der;
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path_, ec);
  if (ec) {
    error = "cannot read the file";
  } else if (size > kMaxOcspBytes) {
    error = "larger than 64 KiB";
  } else {
    std::ifstream in(path_, std::ios::binary);
    der.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) error = "cannot read the file";
  }
  OcspResponseFile parsed;
  if (error.empty() && parse_ocsp_response(std::move(der), parsed, error)) {
    next_update_ = parsed.next_update;
    response_.store(std::make_shared<const OcspResponseFile>(std::move(parsed)));
    stale_logged_ = false;
    if (reread) TlsCounters::add(metrics::tls_counters().ocsp_reloads.ok);
    gateway::log_info("tls_ocsp_loaded").field("listener", listener_).field("file", path_)
        .field("next_update", static_cast<std::int64_t>(response_.load()->next_update));
    return;
  }
  if (error == "stale") {
    // A stale file replaces whatever we had: the older response is staler still.
    response_.store(nullptr);
    next_update_ = parsed.next_update;
    TlsCounters::add(metrics::tls_counters().ocsp_stale_skipped);
    if (reread) TlsCounters::add(metrics::tls_counters().ocsp_reloads.refused);
    gateway::log_warn("tls_ocsp_stale").field("listener", listener_).field("file", path_)
        .field("next_update", static_cast<std::int64_t>(parsed.next_update)).field("effect", "not stapled");
    return;
  }
  if (reread) TlsCounters::add(metrics::tls_counters().ocsp_reloads.refused);
  gateway::log_error("tls_ocsp_refused").field("listener", listener_).field("file", path_).field("error", error)
      .field("effect", response_.load() ? "previous response kept" : "no stapling");
}

std::shared_ptr<const OcspResponseFile> OcspStaple::current(std::time_t now) const {
  auto r = response_.load();
  if (!r) return nullptr;
  if (r->next_update != 0 && now > r->next_update) {
    TlsCounters::add(metrics::tls_counters().ocsp_stale_skipped);
    if (!stale_logged_.exchange(true))
      gateway::log_warn("tls_ocsp_stale").field("listener", listener_).field("file", path_)
          .field("next_update", static_cast<std::int64_t>(r->next_update)).field("effect", "not stapled");
    return nullptr;
  }
  return r;
}

}  // namespace sluice::tls
