// A server session from ServerContext as wolfSSL sees it. Debian's wolfSSL
// is built with OpenSSL-compatible defaults, which switch on
// SSL_MODE_AUTO_RETRY: inside a handshake, a "would block" from the receive
// callback was then retried ten times on the spot. The contexts turn it off,
// so the callback is asked once and the caller waits for the socket.
// The certificate is made with the openssl command (a test dependency).
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>

#include "tls/server_context.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gateway/config.hpp"

namespace sluice::tls {
namespace {

int would_block_counting(WOLFSSL*, char*, int, void* ctx) {
  ++*static_cast<int*>(ctx);
  return WOLFSSL_CBIO_ERR_WANT_READ;
}

TEST(ServerContext, AWouldBlockInTheHandshakeIsReportedAtOnceNotRetried) {
  const auto dir = std::filesystem::temp_directory_path() / ("sluice-ctx-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string make = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
                           " -subj /CN=ctx.test -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make.c_str()), 0) << "the openssl command is needed: " << make;

  gateway::TlsConfig tls;
  tls.certificates.push_back({cert, key, {}, {}});
  std::string error;
  auto context = ServerContext::build("test", tls.certificates, tls, nullptr, error);
  ASSERT_TRUE(context) << error;
  HandshakeNotes notes;
  auto* ssl = static_cast<WOLFSSL*>(context->new_session(&notes));
  ASSERT_NE(ssl, nullptr);

  int calls = 0;
  wolfSSL_SSLSetIORecv(ssl, would_block_counting);
  wolfSSL_SetIOReadCtx(ssl, &calls);
  const int r = wolfSSL_accept(ssl);
  EXPECT_NE(r, WOLFSSL_SUCCESS);
  EXPECT_EQ(wolfSSL_get_error(ssl, r), WOLFSSL_ERROR_WANT_READ);
  EXPECT_EQ(calls, 1) << "wolfSSL retried a would-block itself (SSL_MODE_AUTO_RETRY is on)";
  wolfSSL_free(ssl);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::tls
