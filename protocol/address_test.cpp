// Table tests for parse_path(): RFC 5321 4.1.2 syntax, limits, SMTPUTF8 and
// the open-relay tricks relay control must see.
#include "protocol/address.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::protocol {
namespace {

using namespace std::literals;
constexpr PathKind kMail = PathKind::reverse;
constexpr PathKind kRcpt = PathKind::forward;

struct Accepted {
  std::string arg;
  PathKind kind;
  bool utf8;
  std::string local;
  std::string domain;
  PathFlags flags = {};
  std::string params = "";
  bool quoted = false;
  bool needs_utf8 = false;
  bool null_path = false;
};

PathFlags route() { return {.source_route = true}; }
PathFlags percent() { return {.percent_hack = true}; }
PathFlags bang() { return {.bang_path = true}; }
PathFlags quoted_at() { return {.quoted_at = true}; }

std::vector<Accepted> accepted_cases() {
  const std::string l64(64, 'a');
  const std::string label63(63, 'b');
  // 63+1+63+1+63+1+60 = 252 octets; with "<a@" and ">" the path is 256.
  const std::string d252 = label63 + "." + label63 + "." + label63 + "." + std::string(60, 'c');
  return {
      {"<user@example.com>", kMail, false, "user", "example.com"},
      {"<User.Name@EXAMPLE.Com>", kRcpt, false, "User.Name", "example.com"},
      {"<>", kMail, false, "", "", {}, "", false, false, true},
      {"<> SIZE=100", kMail, false, "", "", {}, "SIZE=100", false, false, true},
      {"   <a@b.example>", kMail, false, "a", "b.example"},
      {"<a@b.example>   ", kMail, false, "a", "b.example", {}, ""},
      {"<a@b.example> SIZE=1 BODY=8BITMIME", kMail, false, "a", "b.example", {}, "SIZE=1 BODY=8BITMIME"},
      {"<a@b.example>   NOTIFY=NEVER ", kRcpt, false, "a", "b.example", {}, "NOTIFY=NEVER "},
      {"<first.last+tag@x.org>", kRcpt, false, "first.last+tag", "x.org"},
      {"<a#$&'*/=?^_`{|}~-@x.org>", kRcpt, false, "a#$&'*/=?^_`{|}~-", "x.org"},
      {"<a@localhost>", kRcpt, false, "a", "localhost"},
      {"<a@1.2.3.4>", kRcpt, false, "a", "1.2.3.4"},  // numeric labels are names here
      {"<a-b@x-y.example>", kRcpt, false, "a-b", "x-y.example"},
      {"<\"john doe\"@example.com>", kRcpt, false, "\"john doe\"", "example.com", {}, "", true},
      {"<\"a\\\"b\\\\c\"@x.org>", kRcpt, false, "\"a\\\"b\\\\c\"", "x.org", {}, "", true},
      {"<\"\"@x.org>", kRcpt, false, "\"\"", "x.org", {}, "", true},
      {"<user@[192.0.2.1]>", kMail, false, "user", "[192.0.2.1]"},
      {"<user@[IPv6:2001:DB8::1]>", kMail, false, "user", "[IPv6:2001:DB8::1]"},
      {"<user@[ipv6:::ffff:192.0.2.1]>", kRcpt, false, "user", "[ipv6:::ffff:192.0.2.1]"},
      {"<Postmaster>", kRcpt, false, "Postmaster", ""},
      {"<pOsTmAsTeR> NOTIFY=NEVER", kRcpt, false, "pOsTmAsTeR", "", {}, "NOTIFY=NEVER"},
      {"<postmaster@ours.example>", kMail, false, "postmaster", "ours.example"},
      // Open-relay tricks: accepted, flagged.
      {"<user%other.example@ours.example>", kRcpt, false, "user%other.example", "ours.example", percent()},
      {"<@a.example:user@b.example>", kRcpt, false, "user", "b.example", route()},
      {"<@a.example,@B.example:user@c.example>", kRcpt, false, "user", "c.example", route()},
      {"<other.example!user@ours.example>", kRcpt, false, "other.example!user", "ours.example", bang()},
      {"<\"user@other.example\"@ours.example>", kRcpt, false, "\"user@other.example\"", "ours.example",
       quoted_at(), "", true},
      {"<\"user%other\"@ours.example>", kRcpt, false, "\"user%other\"", "ours.example", percent(), "", true},
      {"<\"a\\@b\"@ours.example>", kRcpt, false, "\"a\\@b\"", "ours.example", quoted_at(), "", true},
      {"<\"a!b%c@d\"@ours.example>", kRcpt, false, "\"a!b%c@d\"", "ours.example",
       {.percent_hack = true, .bang_path = true, .quoted_at = true}, "", true},
      // SMTPUTF8 (RFC 6531 3.3) when allowed.
      {"<jörg@bücher.example>", kMail, true, "jörg", "bücher.example", {}, "", false, true},
      {"<用户@例子.广告>", kRcpt, true, "用户", "例子.广告", {}, "", false, true},
      {"<\"ü x\"@x.org>", kRcpt, true, "\"ü x\"", "x.org", {}, "", true, true},
      {"<user@BÜCHER.Example>", kRcpt, true, "user", "bÜcher.example", {}, "", false, true},
      {"<😀@x.org>", kRcpt, true, "😀", "x.org", {}, "", false, true},
      {"<plain@x.org>", kRcpt, true, "plain", "x.org"},
      // Limits exactly at the edge.
      {"<" + l64 + "@x.org>", kMail, false, l64, "x.org"},
      {"<a@" + label63 + ".org>", kMail, false, "a", label63 + ".org"},
      {"<a@" + d252 + ">", kMail, false, "a", d252},
  };
}

TEST(ParsePath, AcceptsValidPaths) {
  for (const Accepted& c : accepted_cases()) {
    SCOPED_TRACE(c.arg);
    const PathParse r = parse_path(c.arg, c.kind, c.utf8);
    ASSERT_TRUE(r.ok) << r.error.to_wire();
    EXPECT_TRUE(r.error.empty());
    EXPECT_EQ(r.null_path, c.null_path);
    EXPECT_EQ(r.mailbox.local_part, c.local);
    EXPECT_EQ(r.mailbox.domain, c.domain);
    EXPECT_EQ(r.mailbox.quoted_local, c.quoted);
    EXPECT_EQ(r.mailbox.needs_smtputf8, c.needs_utf8);
    EXPECT_EQ(r.flags, c.flags);
    EXPECT_EQ(r.params, c.params);
  }
}

TEST(ParsePath, ParamsIsAViewIntoTheInput) {
  const std::string arg = "<a@b.example> SIZE=42";
  const PathParse r = parse_path(arg, kMail, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.params.data(), arg.data() + arg.find("SIZE"));
  EXPECT_EQ(r.params.size(), 7u);
}

TEST(ParsePath, MailboxStr) {
  EXPECT_EQ(parse_path("<A@B.EXAMPLE>", kMail, false).mailbox.str(), "A@b.example");
  EXPECT_EQ(parse_path("<Postmaster>", kRcpt, false).mailbox.str(), "Postmaster");
  EXPECT_EQ(parse_path("<@r.example:u@[10.0.0.1]>", kRcpt, false).mailbox.str(), "u@[10.0.0.1]");
  EXPECT_EQ(parse_path("<\"a b\"@x.org>", kRcpt, false).mailbox.str(), "\"a b\"@x.org");
  EXPECT_EQ(parse_path("<>", kMail, false).mailbox.str(), "");
}

struct Refused {
  std::string arg;
  PathKind kind;
  bool utf8;
  int code;
  std::string enhanced;
  std::string text;  // a substring the reply text must contain
};

std::vector<Refused> refused_cases() {
  const std::string l65(65, 'a');
  const std::string label63(63, 'b');
  // 63+1+63+1+63+1+62+1+1 = 256 octets.
  const std::string d256 = label63 + "." + label63 + "." + label63 + "." + std::string(62, 'c') + ".d";
  const std::string d190 = label63 + "." + label63 + "." + std::string(62, 'c');  // 190
  const std::string syn_mail = "Bad sender address syntax";
  const std::string syn_rcpt = "Bad recipient address syntax";
  return {
      // Framing: 501 5.5.4.
      {"", kMail, false, 501, "5.5.4", "MAIL FROM:<address>"},
      {"   ", kRcpt, false, 501, "5.5.4", "RCPT TO:<address>"},
      {"user@example.com", kMail, false, 501, "5.5.4", "enclosed in <>"},
      {"user@example.com", kRcpt, false, 501, "5.5.4", "enclosed in <>"},
      {"<a@b.example>SIZE=1", kMail, false, 501, "5.5.4", "after address"},
      {"<a@b.example>x", kRcpt, false, 501, "5.5.4", "after address"},
      {"<a@b.example>>", kRcpt, false, 501, "5.5.4", "after address"},
      {"<a\0b@x.org>"s, kMail, false, 501, "5.5.4", "Control"},
      {"<a@x.org>\r"s, kMail, false, 501, "5.5.4", "Control"},
      {"\t<a@x.org>", kRcpt, false, 501, "5.5.4", "Control"},
      {"<a\x7f@x.org>", kRcpt, false, 501, "5.5.4", "Control"},
      {"<a@x.org> SIZE=1\0"s, kMail, false, 501, "5.5.4", "Control"},
      {"<\"a\x01\"@x.org>", kRcpt, false, 501, "5.5.4", "Control"},
      // Syntax inside <>: 501 5.1.7 (MAIL) / 501 5.1.3 (RCPT).
      {"<>", kRcpt, false, 501, "5.1.3", "null path"},
      {"<user>", kMail, false, 501, "5.1.7", "domain missing"},
      {"<Postmaster>", kMail, false, 501, "5.1.7", "domain missing"},
      {"<postmasterx>", kRcpt, false, 501, "5.1.3", "domain missing"},
      {"<@a.example:postmaster>", kRcpt, false, 501, "5.1.3", "domain missing"},
      {"<a@b.example", kMail, false, 501, "5.1.7", syn_mail},
      {"<", kMail, false, 501, "5.1.7", syn_mail},
      {"< a@x.org>", kMail, false, 501, "5.1.7", syn_mail},
      {"<a@x.org >", kMail, false, 501, "5.1.7", syn_mail},
      {"<.a@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a.@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a..b@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a b@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a(b)@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a\"b\"@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<\"ab@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<\"a\"b@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a@x.org.>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a@.x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a@x..org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a@-x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a@x-.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a@x_y.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a@>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<a@@x.org>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<user@ours.example@other.example>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<@a.example user@b.example>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<@a.example,user@b.example>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<@:user@b.example>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      {"<@[192.0.2.1]:user@b.example>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      // Address literals (RFC 5321 4.1.3).
      {"<a@[1.2.3]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[256.1.1.1]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[1.2.3.4.5]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[1.2.3.4>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[IPv6:]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[IPv6:1.2.3.4]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[IPv6:zz::1]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[IPv6:2001:db8::1%eth0]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[2001:db8::1]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[x-tag:whatever]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[IPv6:" + std::string(60, '1') + "]>", kRcpt, false, 501, "5.1.3", "address literal"},
      {"<a@[1.2.3.4]x>", kRcpt, false, 501, "5.1.3", syn_rcpt},
      // Limits (RFC 5321 4.5.3.1).
      {"<" + l65 + "@x.org>", kMail, false, 501, "5.1.7", "local part exceeds 64"},
      {"<\"" + std::string(63, 'q') + "\"@x.org>", kRcpt, false, 501, "5.1.3", "local part exceeds 64"},
      {"<a@" + d256 + ">", kMail, false, 501, "5.1.7", "domain exceeds 255"},
      {"<a@" + std::string(64, 'b') + ".org>", kRcpt, false, 501, "5.1.3", "label exceeds 63"},
      {"<" + std::string(64, 'a') + "@" + d190 + ">", kRcpt, false, 501, "5.1.3", "path exceeds 256"},
      {"<@" + d190 + ",@" + d190 + ":a@b.example>", kMail, false, 501, "5.1.7", "path exceeds 256"},
      // Non-ASCII without SMTPUTF8: X.6.7, 550 on MAIL, 553 on RCPT (RFC 6531 3.5).
      {"<jörg@example.com>", kMail, false, 550, "5.6.7", "Non-ASCII sender"},
      {"<\"jörg\"@example.com> SIZE=1", kMail, false, 550, "5.6.7", "Non-ASCII sender"},
      {"<user@bücher.example>", kRcpt, false, 553, "5.6.7", "Non-ASCII recipient"},
      {"<\"ü\"@x.org>", kRcpt, false, 553, "5.6.7", "SMTPUTF8"},
      {"<@bücher.example:a@b.example>", kRcpt, false, 553, "5.6.7", "SMTPUTF8"},
      // Malformed UTF-8 is a syntax error, with or without permission.
      {"<a\xC3@x.org>", kRcpt, true, 501, "5.1.3", "malformed UTF-8"},
      {"<a\xC3>", kRcpt, true, 501, "5.1.3", "malformed UTF-8"},
      {"<\xC0\xAF@x.org>", kRcpt, true, 501, "5.1.3", "malformed UTF-8"},
      {"<\xE0\x80\xAF@x.org>", kRcpt, true, 501, "5.1.3", "malformed UTF-8"},
      {"<\xED\xA0\x80@x.org>", kRcpt, true, 501, "5.1.3", "malformed UTF-8"},
      {"<\xF4\x90\x80\x80@x.org>", kRcpt, true, 501, "5.1.3", "malformed UTF-8"},
      {"<\xFF@x.org>", kMail, true, 501, "5.1.7", "malformed UTF-8"},
      {"<\x80@x.org>", kMail, true, 501, "5.1.7", "malformed UTF-8"},
      {"<a@x\xC2\x85y.org>", kMail, true, 501, "5.1.7", "malformed UTF-8"},  // U+0085 NEL
      {"<\"\xC2\x9B\"@x.org>", kMail, true, 501, "5.1.7", "malformed UTF-8"},  // U+009B CSI
      {"<m\xFCller@x.org>", kMail, false, 501, "5.1.7", "malformed UTF-8"},  // Latin-1
      {"<jörg@@x.org>", kMail, false, 501, "5.1.7", syn_mail},  // syntax before 550
      {"<\"a\\é\"@x.org>", kRcpt, true, 501, "5.1.3", syn_rcpt},  // quoted-pair is ASCII only
  };
}

TEST(ParsePath, RefusesWithPreciseReplies) {
  for (const Refused& c : refused_cases()) {
    SCOPED_TRACE(sanitize_for_log(c.arg, 400));
    const PathParse r = parse_path(c.arg, c.kind, c.utf8);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error.code, c.code);
    EXPECT_EQ(r.error.enhanced, c.enhanced);
    EXPECT_NE(r.error.text().find(c.text), std::string_view::npos) << r.error.text();
    EXPECT_TRUE(r.error.permanent());
  }
}

TEST(ParsePath, ReplyTextNeverEchoesInput) {
  const PathParse r = parse_path("<evil\r\n250 OK@x.org>", kMail, false);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.text().find("evil"), std::string_view::npos);
  EXPECT_EQ(r.error.to_wire().find("\r\n250"), std::string::npos);
}

TEST(ParsePath, FlagsAnyAndCleanAddressHasNone) {
  EXPECT_FALSE(parse_path("<a@b.example>", kRcpt, false).flags.any());
  EXPECT_TRUE(parse_path("<a%b@c.example>", kRcpt, false).flags.any());
  EXPECT_TRUE(parse_path("<@x.example:a@c.example>", kRcpt, false).flags.any());
}

TEST(ParsePath, ValidUtf8ButRefusedStillRefusesEarlierSyntax) {
  // Length beats the 553: a 65-octet UTF-8 local part is refused as too long.
  const std::string local = "ü" + std::string(63, 'a');  // 2 + 63 = 65 octets
  const PathParse r = parse_path("<" + local + "@x.org>", kRcpt, false);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.code, 501);
  EXPECT_EQ(r.error.enhanced, "5.1.3");
}

}  // namespace
}  // namespace sluice::protocol
