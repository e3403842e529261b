// DKIM's sans-I/O pieces: tag lists, DKIM-Signature and key record
// parsing, base64, header selection, canonicalization (RFC 6376 3.4.6's
// example), the verdicts that need no DNS, limits, and the
// Authentication-Results fragment.
#include <gtest/gtest.h>

#include "filters/dkim_base64.hpp"
#include "filters/dkim_canonicalization.hpp"
#include "filters/dkim_crypto.hpp"
#include "filters/dkim_header_fields.hpp"
#include "filters/dkim_key_record.hpp"
#include "filters/dkim_message_hasher.hpp"
#include "filters/dkim_result.hpp"
#include "filters/dkim_signature_check.hpp"
#include "filters/dkim_tag_list.hpp"

namespace sluice::filters {
namespace {

TEST(DkimTagList, ParsesFoldedTagsAndRejectsDuplicates) {
  auto ok = parse_tag_list(" v = 1 ;\r\n\ta=rsa-sha256; b= ab\r\n cd ;");
  ASSERT_TRUE(ok.list) << ok.error;
  EXPECT_EQ(ok.list->tags.size(), 3u);
  EXPECT_EQ(*ok.list->find("v"), "1");
  EXPECT_EQ(*ok.list->find("b"), "ab\r\n cd");
  EXPECT_FALSE(ok.list->find("x"));
  EXPECT_FALSE(parse_tag_list("v=1; v=1").list);     // duplicate
  EXPECT_FALSE(parse_tag_list("v=1;; a=b").list);    // empty spec
  EXPECT_FALSE(parse_tag_list("1v=1").list);         // bad name
  EXPECT_FALSE(parse_tag_list("v").list);            // no '='
  EXPECT_FALSE(parse_tag_list("v=\x01").list);       // bad value byte
  EXPECT_TRUE(parse_tag_list("").list);
}

TEST(DkimBase64, StrictDecodeAndEncode) {
  EXPECT_EQ(*base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_FALSE(base64_decode("aGVsbG8"));
  EXPECT_FALSE(base64_decode("aG=sbG8="));
  EXPECT_FALSE(base64_decode("aGVs bG8="));
  EXPECT_EQ(strip_fws("aGVs\r\n bG8="), "aGVsbG8=");
}

const char* kSig =
    "v=1; a=rsa-sha256; c=relaxed; d=Example.COM; s=sel; t=100; x=200;\r\n"
    " h=From : Subject; l=10; i=user@sub.example.com; bh=YWJj; b=ZGVm";

TEST(DkimSignatureParse, ReadsEveryTag) {
  auto p = parse_dkim_signature(kSig);
  ASSERT_TRUE(p.signature) << p.error;
  const auto& s = *p.signature;
  EXPECT_EQ(s.algorithm, DkimAlgorithm::rsa_sha256);
  EXPECT_EQ(s.header_canon, DkimCanon::relaxed);
  EXPECT_EQ(s.body_canon, DkimCanon::simple);  // "c=relaxed" means relaxed/simple
  EXPECT_EQ(s.domain, "example.com");
  EXPECT_EQ(s.signed_headers, (std::vector<std::string>{"from", "subject"}));
  EXPECT_EQ(*s.body_length, 10u);
  EXPECT_EQ(s.body_hash, "abc");
  EXPECT_EQ(s.signature, "def");
  EXPECT_EQ(*s.expiration, 200u);
}

TEST(DkimSignatureParse, RejectsWhatRfc6376Forbids) {
  const std::string base = "v=1; a=rsa-sha256; d=example.com; s=sel; bh=YWJj; b=ZGVm; h=from";
  EXPECT_TRUE(parse_dkim_signature(base).signature);
  EXPECT_FALSE(parse_dkim_signature(base + "; h=to").signature);                      // duplicate
  EXPECT_FALSE(parse_dkim_signature("v=2" + base.substr(3)).signature);               // version
  EXPECT_FALSE(parse_dkim_signature(base.substr(0, base.size() - 4) + "to").signature);  // no From
  EXPECT_FALSE(parse_dkim_signature(base + "; i=@evil.example").signature);           // i= outside d=
  EXPECT_FALSE(parse_dkim_signature(base + "; t=10; x=5").signature);                 // x before t
  EXPECT_FALSE(parse_dkim_signature(base + "; l=ten").signature);
  EXPECT_FALSE(parse_dkim_signature(base + "; q=http").signature);
  EXPECT_FALSE(parse_dkim_signature(base + "; c=fancy").signature);
  EXPECT_FALSE(parse_dkim_signature("v=1; a=rsa-md5; d=example.com; s=sel; bh=YWJj; b=ZGVm; h=from").signature);
  EXPECT_FALSE(parse_dkim_signature("v=1; a=rsa-sha256; d=exa mple.com; s=sel; bh=YWJj; b=ZGVm; h=from").signature);
  EXPECT_FALSE(parse_dkim_signature("v=1; a=rsa-sha256; d=example.com; bh=YWJj; b=ZGVm; h=from").signature);
}

TEST(DkimKeyRecordParse, TagsAndErrors) {
  auto k = parse_dkim_key_record("v=DKIM1; k=ed25519; h=sha256; t=y:s; s=email; n=hi; p=YWJj");
  ASSERT_TRUE(k.record) << k.error;
  EXPECT_EQ(k.record->type, DkimKeyType::ed25519);
  EXPECT_FALSE(k.record->allows(DkimHash::sha1));
  EXPECT_TRUE(k.record->allows(DkimHash::sha256));
  EXPECT_TRUE(k.record->testing && k.record->strict_identity && k.record->email_service);
  EXPECT_TRUE(parse_dkim_key_record("p=").record->revoked());
  EXPECT_EQ(parse_dkim_key_record("p=YWJj").record->type, DkimKeyType::rsa);  // k= defaults to rsa
  EXPECT_FALSE(parse_dkim_key_record("k=rsa; v=DKIM1; p=YWJj").record);  // v= not first
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1: g=*; p=YWJj").record);    // bad v=
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1; k=dsa; p=YWJj").record);
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1; k=rsa").record);          // no p=
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1; h=md5; p=YWJj").record);
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1; p=Y WJ").record);
  EXPECT_FALSE(parse_dkim_key_record("p=YWJj").record->testing);
  EXPECT_FALSE(parse_dkim_key_record("s=tlsrpt; p=YWJj").record->email_service);
}

TEST(DkimHeaderFields, BottomUpSelectionAndNullInstances) {
  const std::string block = "Received: a\r\nSubject: one\r\nX: y\r\n folded\r\nsubject: two\r\n";
  auto fields = split_header_fields(block);
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[2].raw, "X: y\r\n folded");
  auto picked = select_signed_fields(fields, {"subject", "subject", "subject", "x"});
  ASSERT_EQ(picked.size(), 4u);
  EXPECT_EQ(picked[0]->raw, "subject: two");
  EXPECT_EQ(picked[1]->raw, "Subject: one");
  EXPECT_EQ(picked[2], nullptr);  // over-signed: no instance left
  EXPECT_EQ(picked[3]->name, "X");
  EXPECT_EQ(without_b_value("DKIM-Signature: a=1; b=abc\r\n def; bh=xyz"),
            "DKIM-Signature: a=1; b=; bh=xyz");
  EXPECT_EQ(without_b_value("DKIM-Signature: bh=xyz; b = abc"), "DKIM-Signature: bh=xyz; b =");
}

class Collect final : public CanonicalSink {
 public:
  void consume(std::string_view b) override { out.append(b); }
  std::string out;
};

std::string body(std::string_view in, DkimCanon canon, std::size_t piece) {
  Collect c;
  BodyCanonicalizer b(canon, c);
  for (std::size_t i = 0; i < in.size(); i += piece) b.write(in.substr(i, piece));
  b.finish();
  return c.out;
}

TEST(DkimCanonicalization, Rfc6376Section346Example) {
  const std::string block = "A: X\r\nB : Y\t\r\n\tZ  \r\n";
  auto fields = split_header_fields(block);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(canonical_header(fields[0], DkimCanon::relaxed) + canonical_header(fields[1], DkimCanon::relaxed),
            "a:X\r\nb:Y Z\r\n");
  EXPECT_EQ(canonical_header(fields[1], DkimCanon::simple), "B : Y\t\r\n\tZ  \r\n");
  const std::string in = " C \r\nD \t E\r\n\r\n\r\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{5}, in.size()}) {
    EXPECT_EQ(body(in, DkimCanon::relaxed, piece), " C\r\nD E\r\n");
    EXPECT_EQ(body(in, DkimCanon::simple, piece), " C \r\nD \t E\r\n");
  }
}

TEST(DkimCanonicalization, EmptyBodiesAndMissingFinalCrlf) {
  EXPECT_EQ(body("", DkimCanon::simple, 1), "\r\n");
  EXPECT_EQ(body("\r\n\r\n", DkimCanon::simple, 1), "\r\n");
  EXPECT_EQ(body("", DkimCanon::relaxed, 1), "");
  EXPECT_EQ(body(" \r\n\t\r\n", DkimCanon::relaxed, 1), "");
  EXPECT_EQ(body("abc", DkimCanon::simple, 1), "abc\r\n");
  EXPECT_EQ(body("abc  ", DkimCanon::relaxed, 2), "abc\r\n");
  EXPECT_EQ(body("a\rb\r\n", DkimCanon::simple, 1), "a\rb\r\n");  // a lone CR is text
}

TEST(DkimMessageHasher, LimitsSignaturesAndHeaderSize) {
  std::string msg;
  for (int i = 0; i < 7; ++i)
    msg += "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s" + std::to_string(i) +
           "; h=from; bh=YWJj; b=ZGVm\r\n";
  msg += "DKIM-Signature: v=1; broken\r\nFrom: a@example.com\r\n\r\nbody\r\n";
  DkimLimits limits;
  limits.max_signatures = 8;
  DkimMessageHasher all(limits);
  all.feed(msg);
  all.finish();
  ASSERT_EQ(all.signatures().size(), 8u);
  EXPECT_FALSE(all.signatures()[7].signature);
  EXPECT_EQ(all.signatures()[0].body_bytes, 6u);  // "body\r\n", one shared hash

  DkimMessageHasher few;  // default limit: 5 checked
  few.feed(msg);
  few.finish();
  ASSERT_EQ(few.signatures().size(), 8u);
  EXPECT_TRUE(few.signatures()[4].checked);
  EXPECT_FALSE(few.signatures()[5].checked);
  auto r = check_before_lookup(few.signatures()[6], {}, 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, DkimStatus::neutral);
  auto syntax = check_before_lookup(all.signatures()[7], {}, 0);
  EXPECT_EQ(syntax->status, DkimStatus::permerror);
  EXPECT_EQ(syntax->reason, DkimReason::signature_syntax);

  limits.max_header_bytes = 100;
  DkimMessageHasher small(limits);
  for (char c : msg) small.feed(std::string_view(&c, 1));
  small.finish();
  EXPECT_TRUE(small.header_too_large());
}

TEST(DkimSignatureCheck, ExpiryAndFutureTimestamps) {
  DkimMessageHasher h;
  h.feed("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; t=1000; x=2000;"
         " bh=YWJj; b=ZGVm\r\nFrom: a@example.com\r\n\r\n");
  h.finish();
  const auto& s = h.signatures().at(0);
  EXPECT_FALSE(check_before_lookup(s, {}, 1500));
  EXPECT_EQ(check_before_lookup(s, {}, 2001)->reason, DkimReason::expired);
  EXPECT_EQ(check_before_lookup(s, {}, 600)->reason, DkimReason::future);  // 400 s ahead > 300
  EXPECT_FALSE(check_before_lookup(s, {}, 800));                           // within tolerance
  DnsAnswer servfail;
  servfail.status = DnsStatus::servfail;
  EXPECT_EQ(check_with_key(s, servfail, {}).status, DkimStatus::temperror);
  DnsAnswer nx;
  nx.status = DnsStatus::nxdomain;
  EXPECT_EQ(check_with_key(s, nx, {}).reason, DkimReason::no_key);
  DnsAnswer revoked;
  revoked.status = DnsStatus::ok;
  revoked.texts.push_back({"v=DKIM1; p=", {}});
  EXPECT_EQ(check_with_key(s, revoked, {}).reason, DkimReason::key_revoked);
}

// A DER RSAPublicKey (RFC 8017 A.1.1) whose modulus is exactly `bits` long:
// its top bit set, the rest 0xff, e = 65537. Not a usable key, but decoding
// only reads the integers, and a real key of each size is slow to make.
std::string der_length(std::size_t n) {
  if (n < 0x80) return std::string(1, static_cast<char>(n));
  if (n < 0x100) return std::string{'\x81', static_cast<char>(n)};
  return std::string{'\x82', static_cast<char>(n >> 8), static_cast<char>(n & 0xff)};
}
std::string rsa_public_key_der(int bits) {
  std::string modulus(static_cast<std::size_t>((bits + 7) / 8), '\xff');
  modulus[0] = static_cast<char>(0xffu >> (modulus.size() * 8 - bits));
  if (static_cast<unsigned char>(modulus[0]) & 0x80) modulus.insert(0, 1, '\0');  // DER INTEGERs are signed
  const std::string n = "\x02" + der_length(modulus.size()) + modulus;
  const std::string e = std::string("\x02\x03\x01\x00\x01", 5);
  return "\x30" + der_length(n.size() + e.size()) + n + e;
}

TEST(DkimKeySize, CountsTheModulusBitsNotItsBytes) {
  // RFC 8301 3.2: a 1017..1023-bit modulus fills 128 bytes like a 1024-bit
  // one, but it is under 1024 bits and must not be accepted.
  for (int bits : {1016, 1017, 1020, 1023, 1024, 1025, 2047, 2048, 4096}) {
    std::string error;
    const auto key = decode_public_key(DkimKeyType::rsa, rsa_public_key_der(bits), error);
    ASSERT_TRUE(key) << bits << ": " << error;
    EXPECT_EQ(key->bits, bits);
  }
  DkimMessageHasher h;
  h.feed("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=YWJj; b=ZGVm\r\n"
         "From: a@example.com\r\n\r\n");
  h.finish();
  DnsAnswer answer;
  answer.status = DnsStatus::ok;
  answer.texts.push_back({"v=DKIM1; k=rsa; p=" + base64_encode(rsa_public_key_der(1020)), {}});
  const DkimResult r = check_with_key(h.signatures().at(0), answer, {});
  EXPECT_EQ(r.reason, DkimReason::key_too_small) << r.detail;
  EXPECT_EQ(r.key_bits, 1020);
}

TEST(DkimSignatureCheck, RsaSha1IsPolicyNeverPass) {
  // RFC 8301 3.1: rsa-sha1 MUST NOT be used for verifying. Such a signature
  // is "signed, but not acceptable to the ADMD" (RFC 8601 2.7.1 policy),
  // decided before any key lookup, and never a pass DMARC could count.
  DkimMessageHasher h;
  h.feed("DKIM-Signature: v=1; a=rsa-sha1; d=example.com; s=s; h=from; bh=YWJj; b=ZGVm\r\n"
         "From: a@example.com\r\n\r\n");
  h.finish();
  const auto r = check_before_lookup(h.signatures().at(0), {}, 0);
  ASSERT_TRUE(r) << "an rsa-sha1 signature needs no key lookup";
  EXPECT_EQ(to_string(r->status), "policy");
  EXPECT_FALSE(r->passed());
  EXPECT_EQ(authentication_results_fragment(*r),
            "dkim=policy reason=\"rsa-sha1 not accepted (RFC 8301)\" header.d=example.com header.s=s header.b=ZGVm");
}

TEST(DkimResultFragment, AuthenticationResults) {
  DkimResult r;
  r.status = DkimStatus::pass;
  r.domain = "example.com";
  r.selector = "sel";
  r.b_text = "AbCdEfGhIjKl";
  EXPECT_EQ(authentication_results_fragment(r),
            "dkim=pass header.d=example.com header.s=sel header.b=AbCdEfGh");
  r.status = DkimStatus::fail;
  r.reason = DkimReason::body_hash;
  r.b_text = "a/b+cdefgh";
  EXPECT_EQ(authentication_results_fragment(r),
            "dkim=fail reason=\"body hash mismatch\" header.d=example.com header.s=sel header.b=\"a/b+cdef\"");
}

}  // namespace
}  // namespace sluice::filters
