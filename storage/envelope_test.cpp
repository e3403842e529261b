// append_envelope_json: the envelope's part of each queue record. Checked by parsing it back
// with a small strict JSON reader (RFC 8259: UTF-8 text, escaped controls),
// so escaping is judged by what a reader gets, not by the bytes we expect.
#include "storage/envelope.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace sluice::storage {
namespace {

std::string to_json(const Envelope& e) {
  std::string out;
  append_envelope_json(out, e, {});
  return out;
}

// --- a minimal strict JSON reader ----------------------------------------------

struct Json;
struct Number {
  std::string text;  // as written
};
using JsonObject = std::vector<std::pair<std::string, Json>>;  // keeps key order
struct Json {
  std::variant<std::nullptr_t, bool, Number, std::string, std::vector<Json>, JsonObject> v;
  const Json& operator[](std::string_view key) const {
    for (const auto& [k, val] : std::get<JsonObject>(v))
      if (k == key) return val;
    throw std::out_of_range(std::string(key));
  }
  const std::string& str() const { return std::get<std::string>(v); }
  const std::string& num() const { return std::get<Number>(v).text; }
  bool boolean() const { return std::get<bool>(v); }
  const std::vector<Json>& arr() const { return std::get<std::vector<Json>>(v); }
  const JsonObject& obj() const { return std::get<JsonObject>(v); }
};

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  // The whole text must be one value (trailing newline allowed).
  Json document() {
    Json j = value();
    if (i_ < s_.size() && s_[i_] == '\n') ++i_;
    if (i_ != s_.size()) fail("trailing bytes");
    return j;
  }

 private:
  [[noreturn]] void fail(const std::string& why) { throw std::runtime_error(why + " at " + std::to_string(i_)); }
  char peek() { return i_ < s_.size() ? s_[i_] : '\0'; }
  void want(char c) {
    if (peek() != c) fail(std::string("expected ") + c);
    ++i_;
  }
  Json value() {
    const char c = peek();
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Json{{string()}};
    if (s_.substr(i_, 4) == "true") return i_ += 4, Json{{true}};
    if (s_.substr(i_, 5) == "false") return i_ += 5, Json{{false}};
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    fail("unexpected byte");
  }
  Json number() {
    const std::size_t start = i_;
    if (peek() == '-') ++i_;
    if (peek() == '0' && i_ + 1 < s_.size() && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9') fail("leading zero");
    while (peek() >= '0' && peek() <= '9') ++i_;
    if (i_ == start || s_[i_ - 1] == '-') fail("empty number");
    return Json{{Number{std::string(s_.substr(start, i_ - start))}}};
  }
  Json array() {
    want('[');
    std::vector<Json> out;
    if (peek() == ']') return ++i_, Json{{out}};
    for (;;) {
      out.push_back(value());
      if (peek() == ']') return ++i_, Json{{out}};
      want(',');
    }
  }
  Json object() {
    want('{');
    JsonObject out;
    if (peek() == '}') return ++i_, Json{{out}};
    for (;;) {
      std::string k = string();
      want(':');
      out.emplace_back(std::move(k), value());
      if (peek() == '}') return ++i_, Json{{out}};
      want(',');
    }
  }
  unsigned hex4() {
    if (i_ + 4 > s_.size()) fail("short \\u");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v = v * 16 + (h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10 : (fail("bad hex"), 0));
    }
    return v;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) { out += static_cast<char>(cp); return; }
    if (cp < 0x800) { out += static_cast<char>(0xc0 | cp >> 6); }
    else {
      if (cp < 0x10000) { out += static_cast<char>(0xe0 | cp >> 12); }
      else { out += static_cast<char>(0xf0 | cp >> 18); out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f)); }
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    }
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
  // One raw UTF-8 sequence (RFC 3629: shortest form, no surrogates, <= U+10FFFF).
  void raw_utf8(std::string& out) {
    const auto b = static_cast<unsigned char>(s_[i_]);
    const int n = b >= 0xf0 && b <= 0xf4 ? 3 : b >= 0xe0 ? (b <= 0xef ? 2 : -1) : b >= 0xc2 && b <= 0xdf ? 1 : -1;
    if (n < 0 || i_ + n >= s_.size()) fail("invalid UTF-8 lead byte");
    unsigned cp = b & (0x3f >> n);
    for (int k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s_[i_ + k]);
      if ((c & 0xc0) != 0x80) fail("invalid UTF-8 continuation");
      cp = cp << 6 | (c & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      fail("non-shortest or out-of-range UTF-8");
    out.append(s_.substr(i_, n + 1));
    i_ += n + 1;
  }
  std::string string() {
    want('"');
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, out;
      if (c < 0x20) fail("raw control character");
      if (c >= 0x80) { raw_utf8(out); continue; }
      ++i_;
      if (c != '\\') { out += static_cast<char>(c); continue; }
      const char e = peek();
      ++i_;
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xd800 && cp <= 0xdbff) {
            want('\\'), want('u');
            const unsigned lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail("lone surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail("lone low surrogate");
          }
          put_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

Json parse(const std::string& text) { return Reader(text).document(); }

// --- the envelope -------------------------------------------------------------------

Envelope sample() {
  Envelope e;
  e.id = "1wXyZa-000000000AB-0001";
  e.sender = "alice@sender.example";
  e.recipients = {{"bob@example.net", 6, "rfc822;bob@example.net"}, {"carol@example.net", 0, ""}};
  e.received_at = 1700000000;
  e.size = 1234;
  e.body_type = "8BITMIME";
  e.smtputf8 = false;
  e.ret = "HDRS";
  e.envid = "QQ314159";
  e.requiretls = true;
  e.helo = "client.example";
  e.protocol = "esmtpa";
  e.client_addr = "198.51.100.7";
  e.client_port = 4321;
  e.client_name = "host.client.example";
  e.proxy_addr = "192.0.2.10";
  e.origin = "xclient";
  e.login = "alice";
  return e;
}

TEST(Envelope, OneLineOfJsonWithEveryFieldInOrder) {
  const std::string text = to_json(sample());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find('\n'), std::string::npos);  // one line, no line end (a queue record is one LMDB value)
  const Json j = parse(text);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.obj()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "sender", "recipients", "received_at", "size", "body", "smtputf8",
                                            "ret", "envid", "requiretls", "helo", "protocol", "client_addr",
                                            "client_port", "client_name", "proxy_addr", "origin", "login"}));
  EXPECT_EQ(j["id"].str(), "1wXyZa-000000000AB-0001");
  EXPECT_EQ(j["sender"].str(), "alice@sender.example");
  ASSERT_EQ(j["recipients"].arr().size(), 2u);
  const Json& r0 = j["recipients"].arr()[0];
  EXPECT_EQ(r0["address"].str(), "bob@example.net");
  EXPECT_EQ(r0["notify"].num(), "6");
  EXPECT_EQ(r0["orcpt"].str(), "rfc822;bob@example.net");
  EXPECT_EQ(j["recipients"].arr()[1]["orcpt"].str(), "");
  EXPECT_EQ(j["received_at"].num(), "1700000000");
  EXPECT_EQ(j["size"].num(), "1234");
  EXPECT_EQ(j["body"].str(), "8BITMIME");
  EXPECT_FALSE(j["smtputf8"].boolean());
  EXPECT_TRUE(j["requiretls"].boolean());
  EXPECT_EQ(j["client_port"].num(), "4321");
  EXPECT_EQ(j["origin"].str(), "xclient");
  EXPECT_EQ(j["login"].str(), "alice");
}

TEST(Envelope, EmptyEnvelopeIsValid) {
  const Json j = parse(to_json(Envelope{}));
  EXPECT_EQ(j["sender"].str(), "");  // the null reverse path
  EXPECT_TRUE(j["recipients"].arr().empty());
  EXPECT_EQ(j["received_at"].num(), "0");
}

TEST(Envelope, NumberExtremes) {
  Envelope e;
  e.received_at = INT64_MIN;
  e.size = UINT64_MAX;
  e.client_port = 65535;
  const Json j = parse(to_json(e));
  EXPECT_EQ(j["received_at"].num(), "-9223372036854775808");
  EXPECT_EQ(j["size"].num(), "18446744073709551615");
  EXPECT_EQ(j["client_port"].num(), "65535");
}

TEST(Envelope, QuotesBackslashesAndControlsRoundTrip) {
  Envelope e = sample();
  e.sender = "\"odd \\\"quoted\\\" \\\\ user\"@sender.example";
  e.helo = "evil\r\n\"forged\":true,\t\x01\x1f\x7f";
  e.envid = std::string("nul\0here", 8);
  e.recipients = {{"\"a,b\"@example.net", 0, "rfc822;x\"}]y"}};
  const std::string text = to_json(e);
  const Json j = parse(text);
  EXPECT_EQ(j["sender"].str(), e.sender);
  EXPECT_EQ(j["helo"].str(), e.helo);
  EXPECT_EQ(j["envid"].str(), e.envid);
  EXPECT_EQ(j["recipients"].arr()[0]["address"].str(), e.recipients[0].address);
  EXPECT_EQ(j["recipients"].arr()[0]["orcpt"].str(), e.recipients[0].orcpt);
  EXPECT_EQ(j.obj().size(), 18u);  // nothing injected
}

TEST(Envelope, Utf8PassesThroughUnescaped) {
  Envelope e = sample();
  e.sender = "pel\xc3\xa9@\xe4\xbe\x8b\xe3\x81\x88.jp";           // é, 例え
  e.recipients = {{"j\xc3\xb8rn@example.net", 0, ""}, {"\xf0\x9f\x93\xa7@example.net", 0, ""}};  // ø, U+1F4E7
  e.smtputf8 = true;
  const std::string text = to_json(e);
  EXPECT_NE(text.find("pel\xc3\xa9@\xe4\xbe\x8b\xe3\x81\x88.jp"), std::string::npos);
  const Json j = parse(text);
  EXPECT_EQ(j["sender"].str(), e.sender);
  EXPECT_EQ(j["recipients"].arr()[1]["address"].str(), e.recipients[1].address);
  EXPECT_TRUE(j["smtputf8"].boolean());
}

TEST(Envelope, InvalidUtf8StillMakesValidJson) {
  // XCLIENT LOGIN may carry any 8-bit bytes (xclient.hpp): the envelope must
  // stay readable JSON whatever they are.
  for (std::string login : {std::string("\xff\xfe"), std::string("caf\xc3"), std::string("\xc3(x"),
                            std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"),
                            std::string("\x80\x80"), std::string("ok\xe2\x82")}) {
    Envelope e = sample();
    e.login = login;
    const std::string text = to_json(e);
    Json j;
    ASSERT_NO_THROW(j = parse(text)) << text;
    EXPECT_EQ(j["client_addr"].str(), "198.51.100.7");
    EXPECT_FALSE(j["login"].str().empty());
  }
}

TEST(Envelope, ValidUtf8NextToInvalidBytesSurvives) {
  Envelope e = sample();
  e.login = "\xffj\xc3\xb8rn";
  const Json j = parse(to_json(e));
  const std::string& login = j["login"].str();
  // The stray byte 0xFF reads back as U+00FF (envelope.hpp), the rest as sent.
  EXPECT_EQ(login, "\xc3\xbfj\xc3\xb8rn");
}

}  // namespace
}  // namespace sluice::storage
