#include "protocol/xtext.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace sluice::protocol {
namespace {

using namespace std::string_literals;

TEST(XtextEncode, SpecExample) {
  // xclient.md section 3: login "a b+c" is sent as "a+20b+2Bc".
  EXPECT_EQ(xtext_encode("a b+c"), "a+20b+2Bc");
}

TEST(XtextEncode, PrintablesOtherThanPlusAndEqualsStandForThemselves) {
  EXPECT_EQ(xtext_encode("user@dom"), "user@dom");
  EXPECT_EQ(xtext_encode("!~[]"), "!~[]");  // 33 and 126 are the bounds
  EXPECT_EQ(xtext_encode(""), "");
}

TEST(XtextEncode, EncodesPlusEqualsSpaceDelControlsAndEightBit) {
  EXPECT_EQ(xtext_encode("="), "+3D");
  EXPECT_EQ(xtext_encode("+"), "+2B");
  EXPECT_EQ(xtext_encode(" "), "+20");
  EXPECT_EQ(xtext_encode("\x7f"), "+7F");
  EXPECT_EQ(xtext_encode("\0"s), "+00");
  EXPECT_EQ(xtext_encode("\r\n"), "+0D+0A");
  EXPECT_EQ(xtext_encode("\xff\x80"), "+FF+80");  // upper-case hex
}

TEST(XtextEncode, EveryByteHasTheExpectedForm) {
  for (int b = 0; b < 256; ++b) {
    const std::string in(1, static_cast<char>(b));
    const std::string out = xtext_encode(in);
    const bool plain = b >= 33 && b <= 126 && b != '+' && b != '=';
    if (plain) {
      EXPECT_EQ(out, in) << "byte " << b;
    } else {
      char expected[4];
      std::snprintf(expected, sizeof expected, "+%02X", b);
      EXPECT_EQ(out, expected) << "byte " << b;
    }
  }
}

TEST(XtextRoundTrip, EveryByteAloneAndInContext) {
  for (int b = 0; b < 256; ++b) {
    const std::string in = "a"s + static_cast<char>(b) + "z";
    const auto back = xtext_decode(xtext_encode(in));
    ASSERT_TRUE(back.has_value()) << "byte " << b;
    EXPECT_EQ(*back, in) << "byte " << b;
  }
}

TEST(XtextRoundTrip, AllBytesInOneString) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string enc = xtext_encode(all);
  for (unsigned char c : enc) {
    ASSERT_GE(c, 33);
    ASSERT_LE(c, 126);
    ASSERT_NE(c, '=');
  }
  const auto back = xtext_decode(enc);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, all);
}

TEST(XtextRoundTrip, PseudoRandomStrings) {
  std::uint32_t state = 12345;
  for (int n = 0; n < 2000; ++n) {
    std::string in;
    const int len = n % 40;
    for (int i = 0; i < len; ++i) {
      state = state * 1664525u + 1013904223u;
      in += static_cast<char>(state >> 24);
    }
    const auto back = xtext_decode(xtext_encode(in));
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(*back, in);
  }
}

TEST(XtextDecode, Basics) {
  EXPECT_EQ(xtext_decode("a+20b+2Bc"), "a b+c");
  EXPECT_EQ(xtext_decode(""), "");
  EXPECT_EQ(xtext_decode("user@dom"), "user@dom");
  EXPECT_EQ(xtext_decode("+00"), "\0"s);
  EXPECT_EQ(xtext_decode("+FF"), "\xff");
}

TEST(XtextDecode, AcceptsNeedlesslyEncodedCharacters) {
  // RFC 3461 s4 lets an encoder escape any character; decoding is not
  // limited to the ones that must be escaped.
  EXPECT_EQ(xtext_decode("+41+42C"), "ABC");
}

TEST(XtextDecode, DecodesOnlyOnce) {
  EXPECT_EQ(xtext_decode("+2B2B"), "+2B");
  EXPECT_EQ(xtext_decode("+2B+32+42"), "+2B");
}

TEST(XtextDecode, RejectsTruncatedOrBadHexchar) {
  EXPECT_EQ(xtext_decode("+"), std::nullopt);
  EXPECT_EQ(xtext_decode("+4"), std::nullopt);
  EXPECT_EQ(xtext_decode("ab+"), std::nullopt);
  EXPECT_EQ(xtext_decode("ab+4"), std::nullopt);
  EXPECT_EQ(xtext_decode("+G0"), std::nullopt);
  EXPECT_EQ(xtext_decode("+0G"), std::nullopt);
  EXPECT_EQ(xtext_decode("+ 0"), std::nullopt);
  EXPECT_EQ(xtext_decode("++20"), std::nullopt);
}

TEST(XtextDecode, RejectsLowerAndMixedCaseHex) {
  // Deliberate (see xtext.hpp): RFC 3461 s4 says upper case, and lenient
  // decoding would garble raw legacy values such as "bob+ca@x".
  EXPECT_EQ(xtext_decode("+2b"), std::nullopt);
  EXPECT_EQ(xtext_decode("+ab"), std::nullopt);
  EXPECT_EQ(xtext_decode("+aB"), std::nullopt);
  EXPECT_EQ(xtext_decode("+Ab"), std::nullopt);
  EXPECT_EQ(xtext_decode("bob+ca@x"), std::nullopt);
  EXPECT_EQ(xtext_decode("+2B"), "+");
  EXPECT_EQ(xtext_decode("+AB"), "\xab");
}

TEST(XtextDecode, RejectsCharactersOutsideXchar) {
  EXPECT_EQ(xtext_decode("="), std::nullopt);
  EXPECT_EQ(xtext_decode("a=b"), std::nullopt);
  EXPECT_EQ(xtext_decode("a b"), std::nullopt);
  EXPECT_EQ(xtext_decode("a\tb"), std::nullopt);
  EXPECT_EQ(xtext_decode("\x7f"), std::nullopt);
  EXPECT_EQ(xtext_decode("\x80"), std::nullopt);
  EXPECT_EQ(xtext_decode("j\xc3\xb6rg"), std::nullopt);
  EXPECT_EQ(xtext_decode("a\0b"s), std::nullopt);
  EXPECT_EQ(xtext_decode("ok\r\n"), std::nullopt);
}

TEST(XtextDecode, EveryByteAloneIsValidExactlyWhenXchar) {
  for (int b = 0; b < 256; ++b) {
    const std::string in(1, static_cast<char>(b));
    const bool xchar = b >= 33 && b <= 126 && b != '+' && b != '=';
    EXPECT_EQ(xtext_decode(in).has_value(), xchar) << "byte " << b;
  }
}

}  // namespace
}  // namespace sluice::protocol
