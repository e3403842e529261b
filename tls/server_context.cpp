#include "tls/server_context.hpp"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string_view>

#include "gateway/log.hpp"
#include "metrics/tls_counters.hpp"
#include "tls/asn1_time.hpp"
#include "tls/ecdsa_signer.hpp"
#include "tls/file_signature.hpp"
#include "tls/ocsp_staple.hpp"
#include "tls/rsa_signer.hpp"

namespace sluice::tls {

using metrics::TlsCounters;

// One certificate as two wolfSSL contexts when it has an OCSP file: one that
// staples and one that does not. wolfSSL fails a handshake whose client asked
// for a status when its stapling context has no response to give, so a
// session is put on the stapling one only while a fresh response is there.
struct ServerContext::Certificate {
  WOLFSSL_CTX* ctx = nullptr;        // never staples
  WOLFSSL_CTX* ctx_ocsp = nullptr;   // staples; nullptr without an OCSP file
  gateway::TlsCertificateConfig config;
  std::unique_ptr<OcspStaple> ocsp;  // nullptr: no OCSP file configured
  std::time_t not_after = 0;         // the leaf's
  bool ecdsa = false;                // an ECDSA key (else RSA)
  WOLFSSL_CTX* pick(std::time_t now) const {
    // A minute of margin: the response must still be fresh when wolfSSL
    // asks for it, later in the handshake.
    return ctx_ocsp && ocsp->fresh(now + 60) ? ctx_ocsp : ctx;
  }
  ~Certificate() {
    if (ctx) wolfSSL_CTX_free(ctx);
    if (ctx_ocsp) wolfSSL_CTX_free(ctx_ocsp);
  }
};

namespace {

int notes_index() {
  // asio keeps its verify callback in ex_data slot 0 (SSL_set_app_data): take our own.
  // wolfSSL may hand out that very slot first.
  static const int index = [] {
    int i = wolfSSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    while (i == 0) i = wolfSSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return i;
  }();
  return index;
}

HandshakeNotes* notes_of(WOLFSSL* ssl) { return static_cast<HandshakeNotes*>(wolfSSL_get_ex_data(ssl, notes_index())); }

// Printable ASCII only, for the log; a server name is a DNS name (RFC 6066 3).
std::string sanitised(const char* s) {
  std::string out;
  for (; s && *s && out.size() < 255; ++s) out += (*s > ' ' && *s < 0x7f) ? *s : '?';
  return out;
}

int ticket_callback(WOLFSSL* ssl, unsigned char key_name[WOLFSSL_TICKET_NAME_SZ],
                    unsigned char iv[WOLFSSL_TICKET_IV_SZ], unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc,
                    unsigned char* ticket, int in_len, int* out_len, void* user) {
  auto* keys = static_cast<TicketKeys*>(user);
  HandshakeNotes* notes = notes_of(ssl);
  auto& counters = metrics::tls_counters();
  std::span<std::uint8_t> data(ticket, static_cast<std::size_t>(in_len));
  if (enc) {
    if (!keys->seal(std::span<std::uint8_t, 16>(key_name, 16), std::span<std::uint8_t, 16>(iv, 16),
                    std::span<std::uint8_t, 32>(mac, 32), data))
      return WOLFSSL_TICKET_RET_FATAL;
    *out_len = in_len;
    if (notes) notes->ticket_issued = true;
    TlsCounters::add(counters.tickets_issued);
    return WOLFSSL_TICKET_RET_OK;
  }
  if (notes) notes->ticket_offered = true;
  TlsCounters::add(counters.tickets_offered);
  const TicketOpen r = keys->open(std::span<const std::uint8_t, 16>(key_name, 16),
                                  std::span<const std::uint8_t, 16>(iv, 16), std::span<const std::uint8_t, 32>(mac, 32),
                                  data);
  if (r == TicketOpen::unknown_key || r == TicketOpen::bad) {
    TlsCounters::add(counters.tickets_refused);
    return WOLFSSL_TICKET_RET_REJECT;  // a full handshake follows
  }
  *out_len = in_len;
  if (notes) notes->ticket_opened = true;
  return r == TicketOpen::ok_renew ? WOLFSSL_TICKET_RET_CREATE : WOLFSSL_TICKET_RET_OK;
}

// SNI (RFC 6066 3): switch the session to the certificate named for it; an
// unknown or absent name keeps to the default ones (those with the first
// certificate's names). Among several for the same names, an RSA and an
// ECDSA one, the client gets ECDSA when its ClientHello can take it (a
// cheaper handshake for us), RSA otherwise.
int servername_callback(WOLFSSL* ssl, int* /*alert*/, void* arg) {
  using Certs = std::vector<std::unique_ptr<ServerContext::Certificate>>;
  const Certs& certs = *static_cast<const Certs*>(arg);
  const char* name = wolfSSL_get_servername(ssl, WOLFSSL_SNI_HOST_NAME);
  HandshakeNotes* notes = notes_of(ssl);
  if (notes) notes->sni = sanitised(name);
  auto named = [&](const ServerContext::Certificate& c) {
    if (!name) return false;
    for (const auto& n : c.config.names)
      if (strcasecmp(n.c_str(), name) == 0) return true;
    return false;
  };
  const bool any_named = std::any_of(certs.begin(), certs.end(), [&](const auto& c) { return named(*c); });
  auto candidate = [&](const ServerContext::Certificate& c) {
    return any_named ? named(c) : c.config.names == certs.front()->config.names;
  };
  const ServerContext::Certificate* chosen = nullptr;
  for (const auto& c : certs) {
    if (!candidate(*c)) continue;
    if (!chosen) chosen = c.get();
    if (notes && notes->hello_seen && c->ecdsa == notes->client_takes_ecdsa) {
      chosen = c.get();
      break;
    }
  }
  if (chosen && chosen != certs.front().get()) wolfSSL_set_SSL_CTX(ssl, chosen->pick(std::time(nullptr)));
  return 0;
}

// Signatures by libcrypto (tls/rsa_signer.hpp, tls/ecdsa_signer.hpp).
// wolfSSL hands over the key it holds for the session, so a certificate
// switched by SNI signs with its own key. A failure is wolfSSL's "hardware
// crypto" error: the handshake fails, and the failure is counted
// (sluice_tls_libcrypto_signatures_total).
int rsa_pkcs1_sign(WOLFSSL* /*ssl*/, const unsigned char* in, unsigned int in_len, unsigned char* out,
                   word32* out_len, const unsigned char* key_der, unsigned int key_len, void* /*ctx*/) {
  const std::size_t n = rsa_signer::sign_pkcs1({key_der, key_len}, {in, in_len}, {out, *out_len});
  if (n == 0) return WC_HW_E;
  *out_len = static_cast<word32>(n);
  return 0;
}

int rsa_pss_sign(WOLFSSL* /*ssl*/, const unsigned char* in, unsigned int in_len, unsigned char* out,
                 unsigned int* out_len, int hash, int mgf, const unsigned char* key_der, unsigned int key_len,
                 void* /*ctx*/) {
  // TLS names one hash for the digest and for MGF1 (RFC 8446 4.2.3).
  rsa_signer::PssHash h;
  if (hash == SHA256h && mgf == WC_MGF1SHA256)
    h = rsa_signer::PssHash::sha256;
  else if (hash == SHA384h && mgf == WC_MGF1SHA384)
    h = rsa_signer::PssHash::sha384;
  else if (hash == SHA512h && mgf == WC_MGF1SHA512)
    h = rsa_signer::PssHash::sha512;
  else
    return WC_HW_E;
  const std::size_t n = rsa_signer::sign_pss({key_der, key_len}, h, {in, in_len}, {out, *out_len});
  if (n == 0) return WC_HW_E;
  *out_len = static_cast<unsigned int>(n);
  return 0;
}

void sign_rsa_with_libcrypto(WOLFSSL_CTX* ctx) {
  wolfSSL_CTX_SetRsaSignCb(ctx, rsa_pkcs1_sign);
  wolfSSL_CTX_SetRsaPssSignCb(ctx, rsa_pss_sign);
}

// `in` is the digest wolfSSL has made of what TLS signs; `*out_len` the room
// it left: in TLS 1.2 exactly the key's largest DER signature
// (wc_ecc_sig_size, which libcrypto needs at least), in TLS 1.3 the rest of
// the record buffer, more than that.
int ecdsa_sign(WOLFSSL* /*ssl*/, const unsigned char* in, unsigned int in_len, unsigned char* out, word32* out_len,
               const unsigned char* key_der, unsigned int key_len, void* /*ctx*/) {
  const std::size_t n = ecdsa_signer::sign_digest({key_der, key_len}, {in, in_len}, {out, *out_len});
  if (n == 0) return WC_HW_E;
  *out_len = static_cast<word32>(n);
  return 0;
}

// Which library signs with this certificate's key: libcrypto for RSA and EC
// keys when the config says so (checking now that libcrypto reads the key
// file, so a key it cannot use is refused at start or reload, not at the
// first handshake), wolfSSL for the rest (Ed25519, Ed448).
struct Signing {
  void (*install)(WOLFSSL_CTX*) = nullptr;  // null: wolfSSL signs
  std::string (*check_key_pem)(std::string_view, const std::string&) = nullptr;
  const char* setting = "";
};

Signing signing_for(int key_type, const gateway::TlsConfig& tls) {
  if (key_type == RSAk && tls.rsa_signing == gateway::Signer::libcrypto)
    return {sign_rsa_with_libcrypto, rsa_signer::check_key_pem, "tls.rsa_signing"};
  if (key_type == ECDSAk && tls.ecdsa_signing == gateway::Signer::libcrypto)
    return {[](WOLFSSL_CTX* ctx) { wolfSSL_CTX_SetEccSignCb(ctx, ecdsa_sign); }, ecdsa_signer::check_key_pem,
            "tls.ecdsa_signing"};
  return {};
}

// Loads the certificates that follow the leaf in a PEM chain file as the
// trust anchors of the context's certificate manager.
bool load_issuers(WOLFSSL_CTX* ctx, const std::string& chain_file) {
  std::ifstream in(chain_file, std::ios::binary);
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string end_marker = "-----END CERTIFICATE-----";
  const std::size_t first_end = pem.find(end_marker);
  if (first_end == std::string::npos) return false;
  const std::string rest = pem.substr(first_end + end_marker.size());
  if (rest.find("-----BEGIN CERTIFICATE-----") == std::string::npos) return false;
  return wolfSSL_CTX_load_verify_buffer(ctx, reinterpret_cast<const unsigned char*>(rest.data()),
                                        static_cast<long>(rest.size()), WOLFSSL_FILETYPE_PEM) == WOLFSSL_SUCCESS;
}

// Every file build() reads but the OCSP ones (OcspStaple watches those).
std::vector<std::string> files_read_by_build(const std::vector<gateway::TlsCertificateConfig>& certs,
                                             const std::string& client_ca_file) {
  std::vector<std::string> files;
  for (const auto& c : certs) {
    files.push_back(c.cert);
    files.push_back(c.key);
  }
  if (!client_ca_file.empty()) files.push_back(client_ca_file);
  return files;
}

}  // namespace

namespace {

// Verification is recorded, never fatal: a client whose certificate does not
// verify goes on as any client would, without the relay permission.
int accept_any_client_certificate(int /*preverify*/, WOLFSSL_X509_STORE_CTX* /*store*/) { return 1; }

// A certificate's key file, read once: both contexts of a certificate and
// the libcrypto check get the same bytes, even if the file is replaced
// meanwhile. Wiped when it goes out of scope.
struct KeyFileBytes {
  std::string pem;
  bool read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
  }
  ~KeyFileBytes() { explicit_bzero(pem.data(), pem.size()); }
};

// A wolfSSL context for one certificate with the listener's versions,
// ciphers and tickets; nullptr with `error` naming the file.
WOLFSSL_CTX* make_ctx(const gateway::TlsCertificateConfig& cc, std::string_view key_pem,
                      const gateway::TlsConfig& tls, TicketKeys* keys, const std::string& where, std::string& error) {
  WOLFSSL_CTX* ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
  if (!ctx) {
    error = where + "cannot create a TLS context";
    return nullptr;
  }
  auto fail = [&](std::string why) {
    error = where + why;
    wolfSSL_CTX_free(ctx);
    return nullptr;
  };
  // Debian builds wolfSSL with OpenSSL-compatible defaults, and those turn
  // SSL_MODE_AUTO_RETRY on: inside a handshake, a "would block" from the
  // non-blocking recv() was retried ten times on the spot, eleven system
  // calls while the client computes its next flight. The coroutine waits for
  // the socket instead (protocol/tls_stream.cpp).
  wolfSSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
  if (wolfSSL_CTX_SetMinVersion(ctx, tls.min_version == "1.3" ? WOLFSSL_TLSV1_3 : WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS)
    return fail("cannot set the minimum TLS version " + tls.min_version);
  if (wolfSSL_CTX_set_cipher_list(ctx, tls.ciphers.c_str()) != WOLFSSL_SUCCESS)
    return fail("tls.ciphers: no usable cipher in \"" + tls.ciphers + "\"");
  if (wolfSSL_CTX_use_certificate_chain_file(ctx, cc.cert.c_str()) != WOLFSSL_SUCCESS)
    return fail("cannot load the certificate chain " + cc.cert + " (missing, unreadable or not PEM)");
  if (wolfSSL_CTX_use_PrivateKey_buffer(ctx, reinterpret_cast<const unsigned char*>(key_pem.data()),
                                       static_cast<long>(key_pem.size()), WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
    return fail("cannot load the private key " + cc.key + " (missing, unreadable or not PEM)");
  if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS)
    return fail("the key " + cc.key + " does not match the certificate " + cc.cert);
  // Trusted relays may show a certificate: ask for one, never require it
  // (the public must still reach us), and judge it after the handshake.
  if (!tls.client_ca_file.empty()) {
    if (wolfSSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != WOLFSSL_SUCCESS)
      return fail("cannot load tls.client_ca_file " + tls.client_ca_file + " (missing, unreadable or not PEM)");
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, accept_any_client_certificate);
  }
  // Stateless resumption only: no per-session memory on the server.
  wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
  if (tls.session_tickets && keys) {
    wolfSSL_CTX_set_TicketEncCb(ctx, ticket_callback);
    wolfSSL_CTX_set_TicketEncCtx(ctx, keys);
    wolfSSL_CTX_set_TicketHint(ctx, static_cast<int>(tls.ticket_lifetime.count()));
  } else {
    wolfSSL_CTX_NoTicketTLSv12(ctx);
    wolfSSL_CTX_set_num_tickets(ctx, 0);
  }
  return ctx;
}

}  // namespace

std::shared_ptr<ServerContext> ServerContext::build(const std::string& listener,
                                                    const std::vector<gateway::TlsCertificateConfig>& certs,
                                                    const gateway::TlsConfig& tls, std::shared_ptr<TicketKeys> keys,
                                                    std::string& error) {
  static std::once_flag init;
  std::call_once(init, [] { wolfSSL_Init(); });
  std::shared_ptr<ServerContext> sc(new ServerContext);
  sc->listener_ = listener;
  sc->keys_ = std::move(keys);
  sc->watched_files_ = files_read_by_build(certs, tls.client_ca_file);
  sc->signature_ = file_signature(sc->watched_files_);
  const std::string where = "listener " + listener + ": ";
  if (certs.empty()) {
    error = where + "no certificate";
    return nullptr;
  }
  for (const auto& cc : certs) {
    auto cert = std::make_unique<Certificate>();
    cert->config = cc;
    KeyFileBytes key;
    if (!key.read(cc.key)) {
      error = where + "cannot load the private key " + cc.key + " (missing, unreadable or not PEM)";
      return nullptr;
    }
    cert->ctx = make_ctx(cc, key.pem, tls, sc->keys_.get(), where, error);
    if (!cert->ctx) return nullptr;
    WOLFSSL_X509* leaf = wolfSSL_CTX_get0_certificate(cert->ctx);
    const int key_type = leaf ? wolfSSL_X509_get_pubkey_type(leaf) : 0;
    cert->not_after = leaf ? unix_time_of(wolfSSL_X509_get_notAfter(leaf)) : 0;
    cert->ecdsa = key_type == ECDSAk;
    const Signing signing = signing_for(key_type, tls);
    if (signing.install) {
      if (const std::string why = signing.check_key_pem(key.pem, cc.key); !why.empty()) {
        error = where + why + " (" + signing.setting + " = \"libcrypto\")";
        return nullptr;
      }
      signing.install(cert->ctx);
    }
    if (!cc.ocsp.empty()) {
      cert->ctx_ocsp = make_ctx(cc, key.pem, tls, sc->keys_.get(), where, error);
      if (!cert->ctx_ocsp) return nullptr;
      // wolfSSL checks a staple before sending it, and needs the leaf's
      // issuer for that: the certificates after the leaf in the chain file.
      if (!load_issuers(cert->ctx_ocsp, cc.cert)) {
        error = where + "ocsp needs the issuer certificate after the leaf in " + cc.cert;
        return nullptr;
      }
      if (signing.install) signing.install(cert->ctx_ocsp);
      cert->ocsp = std::make_unique<OcspStaple>(listener, cc.ocsp);
      cert->ocsp->install(cert->ctx_ocsp);
    }
    sc->certs_.push_back(std::move(cert));
  }
  for (WOLFSSL_CTX* first : {sc->certs_.front()->ctx, sc->certs_.front()->ctx_ocsp}) {
    if (!first) continue;
    wolfSSL_CTX_set_servername_callback(first, servername_callback);
    wolfSSL_CTX_set_servername_arg(first, &sc->certs_);
  }
  sc->refresh_ocsp();
  return sc;
}
ServerContext::~ServerContext() = default;

void* ServerContext::new_session(HandshakeNotes* notes) const {
  WOLFSSL* ssl = wolfSSL_new(certs_.front()->pick(std::time(nullptr)));
  if (!ssl) return nullptr;
  wolfSSL_set_ex_data(ssl, notes_index(), notes);
  return ssl;
}

PeerCertificate peer_certificate(void* handle) {
  PeerCertificate pc;
  auto* ssl = static_cast<WOLFSSL*>(handle);
  WOLFSSL_X509* cert = wolfSSL_get_peer_certificate(ssl);
  if (!cert) return pc;
  pc.presented = true;
  const long result = wolfSSL_get_verify_result(ssl);
  pc.verified = result == 0;  // X509_V_OK
  if (!pc.verified) pc.error = "verify error " + std::to_string(result);
  if (WOLFSSL_X509_NAME* subject = wolfSSL_X509_get_subject_name(cert)) {
    char line[512] = {0};
    if (wolfSSL_X509_NAME_oneline(subject, line, sizeof line)) pc.subject = sanitised(line);
    char cn[256] = {0};
    if (wolfSSL_X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn) > 0) pc.names.push_back(sanitised(cn));
  }
  while (char* alt = wolfSSL_X509_get_next_altname(cert)) pc.names.push_back(sanitised(alt));
  for (auto& n : pc.names)
    for (char& c : n)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  wolfSSL_X509_free(cert);
  return pc;
}

std::string ServerContext::files_signature() const { return file_signature(watched_files_); }

std::vector<ServerContext::CertificateDates> ServerContext::certificate_dates() const {
  std::vector<CertificateDates> out;
  for (const auto& c : certs_) {
    // The same chain file listed twice would make two samples with one label set.
    const bool seen = std::any_of(out.begin(), out.end(), [&](const auto& d) { return d.file == c->config.cert; });
    if (!seen) out.push_back({c->config.cert, c->not_after, c->ocsp ? c->ocsp->next_update() : 0});
  }
  return out;
}

void ServerContext::refresh_ocsp() const {
  for (const auto& c : certs_)
    if (c->ocsp) c->ocsp->refresh();
}

}  // namespace sluice::tls
