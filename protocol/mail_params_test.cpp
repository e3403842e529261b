// Table tests for parse_mail_params() / parse_rcpt_params(): every keyword,
// every error reply, and the "commit only when all is valid" contract.
#include "protocol/mail_params.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace sluice::protocol {
namespace {

using namespace std::literals;
using Body = MailParams::Body;
using Ret = MailParams::Ret;

ParamOptions all_on() {
  ParamOptions o;
  o.allow_requiretls = true;
  return o;
}

TEST(MailParams, EmptyListKeepsDefaults) {
  for (std::string_view in : {""sv, " "sv, "   "sv}) {
    MailParams m;
    ASSERT_TRUE(parse_mail_params(in, {}, m).ok);
    EXPECT_FALSE(m.size);
    EXPECT_EQ(m.body, Body::none);
    EXPECT_FALSE(m.smtputf8);
    EXPECT_EQ(m.ret, Ret::none);
    EXPECT_EQ(m.envid, "");
    EXPECT_FALSE(m.requiretls);
  }
}

struct MailOk {
  std::string in;
  std::function<bool(const MailParams&)> check;
};

TEST(MailParams, AcceptsEachKeyword) {
  const std::vector<MailOk> cases = {
      {"SIZE=0", [](auto& m) { return m.size == 0u; }},
      {"SIZE=12345", [](auto& m) { return m.size == 12345u; }},
      {"size=00012", [](auto& m) { return m.size == 12u; }},
      {"SIZE=18446744073709551615", [](auto& m) { return m.size == 18446744073709551615u; }},
      {"BODY=7BIT", [](auto& m) { return m.body == Body::sevenbit; }},
      {"body=8bitmime", [](auto& m) { return m.body == Body::eightbitmime; }},
      {"BODY=BinaryMIME", [](auto& m) { return m.body == Body::binarymime; }},
      {"SMTPUTF8", [](auto& m) { return m.smtputf8; }},
      {"smtputf8", [](auto& m) { return m.smtputf8; }},
      {"RET=FULL", [](auto& m) { return m.ret == Ret::full; }},
      {"ret=hdrs", [](auto& m) { return m.ret == Ret::hdrs; }},
      {"ENVID=QQ314159", [](auto& m) { return m.envid == "QQ314159"; }},
      {"ENVID=a+2Bb+3Dc", [](auto& m) { return m.envid == "a+b=c"; }},
      {"ENVID=+20x", [](auto& m) { return m.envid == " x"; }},
      {"ENVID=" + std::string(100, 'e'), [](auto& m) { return m.envid.size() == 100; }},
      {"REQUIRETLS", [](auto& m) { return m.requiretls; }},
      {"SIZE=100  BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc REQUIRETLS ",
       [](auto& m) {
         return m.size == 100u && m.body == Body::eightbitmime && m.smtputf8 &&
                m.ret == Ret::hdrs && m.envid == "abc" && m.requiretls;
       }},
  };
  for (const MailOk& c : cases) {
    SCOPED_TRACE(c.in);
    MailParams m;
    const ParamsParse r = parse_mail_params(c.in, all_on(), m);
    ASSERT_TRUE(r.ok) << r.error.to_wire();
    EXPECT_TRUE(c.check(m));
  }
}

TEST(RcptParams, AcceptsEachKeyword) {
  struct Case {
    std::string in;
    unsigned notify;
    std::string type, addr;
  };
  const std::vector<Case> cases = {
      {"", 0, "", ""},
      {"NOTIFY=NEVER", kNotifyNever, "", ""},
      {"notify=delay", kNotifyDelay, "", ""},
      {"NOTIFY=SUCCESS,FAILURE,DELAY", kNotifySuccess | kNotifyFailure | kNotifyDelay, "", ""},
      {"NOTIFY=failure,Success", kNotifySuccess | kNotifyFailure, "", ""},
      {"NOTIFY=SUCCESS,SUCCESS", kNotifySuccess, "", ""},
      {"ORCPT=rfc822;user+40example.com", 0, "rfc822", "user@example.com"},
      {"ORCPT=RFC822;a@b.example", 0, "rfc822", "a@b.example"},
      {"ORCPT=x-local;+20spaced+20", 0, "x-local", " spaced "},
      {"NOTIFY=FAILURE ORCPT=rfc822;a@b.example", kNotifyFailure, "rfc822", "a@b.example"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    RcptParams rp;
    const ParamsParse r = parse_rcpt_params(c.in, {}, rp);
    ASSERT_TRUE(r.ok) << r.error.to_wire();
    EXPECT_EQ(rp.notify, c.notify);
    EXPECT_EQ(rp.orcpt_type, c.type);
    EXPECT_EQ(rp.orcpt_addr, c.addr);
  }
}

struct Bad {
  std::string in;
  ParamOptions options;
  int code;
  std::string enhanced;
  std::string text;  // substring of the reply text
};

ParamOptions without(bool ParamOptions::*flag) {
  ParamOptions o = all_on();
  o.*flag = false;
  return o;
}

TEST(MailParams, RefusesWithPreciseReplies) {
  const ParamOptions on = all_on();
  const std::string unknown = "MAIL parameter not recognized";
  const std::vector<Bad> cases = {
      // Unknown or switched off: 555 5.5.4 (RFC 5321 4.1.1.11).
      {"FOO=bar", on, 555, "5.5.4", unknown},
      {"AUTH=<>", on, 555, "5.5.4", unknown},
      {"X-EXT", on, 555, "5.5.4", unknown},
      {"NOTIFY=NEVER", on, 555, "5.5.4", unknown},
      {"ORCPT=rfc822;a@b", on, 555, "5.5.4", unknown},
      {"SIZE=1 FOO", on, 555, "5.5.4", unknown},
      {"SMTPUTF8", without(&ParamOptions::allow_smtputf8), 555, "5.5.4", unknown},
      {"RET=FULL", without(&ParamOptions::allow_dsn), 555, "5.5.4", unknown},
      {"ENVID=x", without(&ParamOptions::allow_dsn), 555, "5.5.4", unknown},
      {"REQUIRETLS", ParamOptions{}, 555, "5.5.4", unknown},
      {"BODY=8BITMIME", without(&ParamOptions::allow_8bitmime), 555, "5.5.4", "BODY=8BITMIME"},
      {"BODY=BINARYMIME", without(&ParamOptions::allow_binarymime), 555, "5.5.4", "BODY=BINARYMIME"},
      {"BODY=7BIT", ParamOptions{false, false, true, true, false}, 555, "5.5.4", unknown},
      // Malformed esmtp-param (RFC 5321 4.1.2): 501 5.5.4.
      {"=1", on, 501, "5.5.4", "Malformed MAIL parameter"},
      {"SIZE=", on, 501, "5.5.4", "Malformed"},
      {"-X=1", on, 501, "5.5.4", "Malformed"},
      {"SI_ZE=1", on, 501, "5.5.4", "Malformed"},
      {"SIZE==1", on, 501, "5.5.4", "Malformed"},
      {"SIZE=1=2", on, 501, "5.5.4", "Malformed"},
      {"SIZE=\t1", on, 501, "5.5.4", "Malformed"},
      {"SIZE=1\0"s, on, 501, "5.5.4", "Malformed"},
      {"ENVID=\xC3\xA9", on, 501, "5.5.4", "Malformed"},
      {"FOO=bar\x01", on, 501, "5.5.4", "Malformed"},  // syntax before "unknown"
      // Duplicates: 501 5.5.4.
      {"SIZE=1 SIZE=2", on, 501, "5.5.4", "Duplicate SIZE"},
      {"SIZE=1 size=1", on, 501, "5.5.4", "Duplicate SIZE"},
      {"BODY=7BIT BODY=8BITMIME", on, 501, "5.5.4", "Duplicate BODY"},
      {"SMTPUTF8 SMTPUTF8", on, 501, "5.5.4", "Duplicate SMTPUTF8"},
      {"RET=FULL RET=HDRS", on, 501, "5.5.4", "Duplicate RET"},
      {"ENVID=a ENVID=a", on, 501, "5.5.4", "Duplicate ENVID"},
      {"REQUIRETLS requiretls", on, 501, "5.5.4", "Duplicate REQUIRETLS"},
      // SIZE (RFC 1870 6).
      {"SIZE", on, 501, "5.5.4", "SIZE needs"},
      {"SIZE=-1", on, 501, "5.5.4", "SIZE needs"},
      {"SIZE=+1", on, 501, "5.5.4", "SIZE needs"},
      {"SIZE=1.5", on, 501, "5.5.4", "SIZE needs"},
      {"SIZE=1e3", on, 501, "5.5.4", "SIZE needs"},
      {"SIZE=0x10", on, 501, "5.5.4", "SIZE needs"},
      {"SIZE=123456789012345678901", on, 501, "5.5.4", "SIZE needs"},  // 21 digits
      {"SIZE=9999999999999999999x", on, 501, "5.5.4", "SIZE needs"},
      {"SIZE=18446744073709551616", on, 552, "5.3.4", "exceeds fixed maximum"},
      {"SIZE=99999999999999999999", on, 552, "5.3.4", "exceeds fixed maximum"},
      // BODY, SMTPUTF8, RET, REQUIRETLS values.
      {"BODY", on, 501, "5.5.4", "BODY must be"},
      {"BODY=8BIT", on, 501, "5.5.4", "BODY must be"},
      {"BODY=7BITX", on, 501, "5.5.4", "BODY must be"},
      {"SMTPUTF8=yes", on, 501, "5.5.4", "SMTPUTF8 takes no value"},
      {"REQUIRETLS=1", on, 501, "5.5.4", "REQUIRETLS takes no value"},
      {"RET", on, 501, "5.5.4", "RET must be"},
      {"RET=ALL", on, 501, "5.5.4", "RET must be"},
      {"RET=FULL,HDRS", on, 501, "5.5.4", "RET must be"},
      // ENVID (RFC 3461 4.4).
      {"ENVID", on, 501, "5.5.4", "ENVID needs"},
      {"ENVID=" + std::string(101, 'e'), on, 501, "5.5.4", "exceeds 100"},
      {"ENVID=a+2", on, 501, "5.5.4", "not valid xtext"},
      {"ENVID=a+", on, 501, "5.5.4", "not valid xtext"},
      {"ENVID=a+2b", on, 501, "5.5.4", "not valid xtext"},
      {"ENVID=a+GG", on, 501, "5.5.4", "not valid xtext"},
      {"ENVID=+00", on, 501, "5.5.4", "printable ASCII"},
      {"ENVID=a+0D+0Ab", on, 501, "5.5.4", "printable ASCII"},
      {"ENVID=+7F", on, 501, "5.5.4", "printable ASCII"},
      {"ENVID=+C3+A9", on, 501, "5.5.4", "printable ASCII"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(sanitize_for_log(c.in));
    MailParams m;
    m.size = 7;  // must survive every failure untouched
    const ParamsParse r = parse_mail_params(c.in, c.options, m);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error.code, c.code);
    EXPECT_EQ(r.error.enhanced, c.enhanced);
    EXPECT_NE(r.error.text().find(c.text), std::string_view::npos) << r.error.text();
    EXPECT_EQ(m.size, 7u);
    EXPECT_EQ(m.body, Body::none);
  }
}

TEST(RcptParams, RefusesWithPreciseReplies) {
  const ParamOptions on = all_on();
  const std::string unknown = "RCPT parameter not recognized";
  const std::string usage = "NOTIFY must be NEVER or a list";
  const std::string orcpt_usage = "ORCPT must be addr-type;address";
  const std::vector<Bad> cases = {
      {"SIZE=1", on, 555, "5.5.4", unknown},
      {"SMTPUTF8", on, 555, "5.5.4", unknown},
      {"XYZ", on, 555, "5.5.4", unknown},
      {"NOTIFY=NEVER", without(&ParamOptions::allow_dsn), 555, "5.5.4", unknown},
      {"ORCPT=rfc822;a@b", without(&ParamOptions::allow_dsn), 555, "5.5.4", unknown},
      {"NOTIFY=", on, 501, "5.5.4", "Malformed RCPT parameter"},
      {"NOTIFY=NEVER NOTIFY=NEVER", on, 501, "5.5.4", "Duplicate NOTIFY"},
      {"ORCPT=rfc822;a ORCPT=rfc822;b", on, 501, "5.5.4", "Duplicate ORCPT"},
      // NOTIFY (RFC 3461 4.1).
      {"NOTIFY", on, 501, "5.5.4", usage},
      {"NOTIFY=SOMETIMES", on, 501, "5.5.4", usage},
      {"NOTIFY=SUCCESS,", on, 501, "5.5.4", usage},
      {"NOTIFY=,SUCCESS", on, 501, "5.5.4", usage},
      {"NOTIFY=SUCCESS,,DELAY", on, 501, "5.5.4", usage},
      {"NOTIFY=NEVER,SUCCESS", on, 501, "5.5.4", "NEVER cannot be combined"},
      {"NOTIFY=delay,never", on, 501, "5.5.4", "NEVER cannot be combined"},
      // ORCPT (RFC 3461 4.2).
      {"ORCPT", on, 501, "5.5.4", orcpt_usage},
      {"ORCPT=rfc822", on, 501, "5.5.4", orcpt_usage},
      {"ORCPT=;a@b.example", on, 501, "5.5.4", orcpt_usage},
      {"ORCPT=rf(c;a@b.example", on, 501, "5.5.4", orcpt_usage},
      {"ORCPT=rfc822;", on, 501, "5.5.4", "ORCPT address missing"},
      {"ORCPT=rfc 822;a@b", on, 501, "5.5.4", orcpt_usage},
      {"ORCPT=rfc822;a+4", on, 501, "5.5.4", "not valid xtext"},
      {"ORCPT=rfc822;a+40+4a", on, 501, "5.5.4", "not valid xtext"},
      {"ORCPT=rfc822;a+00b", on, 501, "5.5.4", "printable ASCII"},
      {"ORCPT=rfc822;a+0D+0ARCPT", on, 501, "5.5.4", "printable ASCII"},
      {"ORCPT=rfc822;" + std::string(494, 'o'), on, 501, "5.5.4", "exceeds 500"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(sanitize_for_log(c.in));
    RcptParams rp;
    rp.notify = kNotifyDelay;  // must survive every failure untouched
    const ParamsParse r = parse_rcpt_params(c.in, c.options, rp);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error.code, c.code);
    EXPECT_EQ(r.error.enhanced, c.enhanced);
    EXPECT_NE(r.error.text().find(c.text), std::string_view::npos) << r.error.text();
    EXPECT_EQ(rp.notify, kNotifyDelay);
    EXPECT_EQ(rp.orcpt_addr, "");
  }
}

TEST(RcptParams, OrcptAtTheLengthLimit) {
  RcptParams rp;
  const std::string value = "rfc822;" + std::string(493, 'o');  // 500 characters
  ASSERT_TRUE(parse_rcpt_params("ORCPT=" + value, {}, rp).ok);
  EXPECT_EQ(rp.orcpt_addr.size(), 493u);
}

TEST(MailParams, CommitsOnlyWhenEverythingIsValid) {
  MailParams m;
  ASSERT_FALSE(parse_mail_params("SIZE=10 BODY=8BITMIME RET=BAD", {}, m).ok);
  EXPECT_FALSE(m.size);
  EXPECT_EQ(m.body, Body::none);
  ASSERT_TRUE(parse_mail_params("SIZE=10 BODY=8BITMIME", {}, m).ok);
  EXPECT_EQ(m.size, 10u);
  // A later successful parse replaces the whole value, not field by field.
  ASSERT_TRUE(parse_mail_params("SMTPUTF8", {}, m).ok);
  EXPECT_FALSE(m.size);
  EXPECT_TRUE(m.smtputf8);
}

TEST(MailParams, ReplyTextNeverEchoesInput) {
  MailParams m;
  const ParamsParse r = parse_mail_params("X-EVIL-KEYWORD=1", {}, m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.text().find("EVIL"), std::string_view::npos);
}

}  // namespace
}  // namespace sluice::protocol
