// header_block_fuzz.cpp — libFuzzer target for HeaderBlockScanner and the
// From analysis (filters/header_block_scanner.hpp).
//
// Input: byte 0 picks the piece size (1..256) the message is fed in; the rest
// is the message. Besides crashes and sanitizer reports, it traps when an
// invariant breaks: the output never grows, does not depend on how the input
// was split, equals the input when nothing was removed, and a From domain it
// reports is lower case with no empty label.
#include <cstdint>
#include <string>
#include <string_view>

#include "filters/header_block_scanner.hpp"

namespace sf = sluice::filters;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string run(std::string_view msg, std::size_t step, unsigned& removed, sf::FromHeaderFacts& from) {
  sf::HeaderBlockScanner s("mx.example.net");
  std::string out;
  for (std::size_t i = 0; i < msg.size(); i += step) s.feed(msg.substr(i, step), out);
  s.finish(out);
  removed = s.removed_authentication_results();
  from = s.from_header();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0];
  const std::string_view msg(reinterpret_cast<const char*>(data + 1), size - 1);
  unsigned removed1 = 0, removed2 = 0;
  sf::FromHeaderFacts f1, f2;
  const std::string a = run(msg, step, removed1, f1);
  const std::string b = run(msg, msg.size() + 1, removed2, f2);
  check(a == b && removed1 == removed2);
  check(a.size() <= msg.size());
  check(removed1 > 0 || a == msg);
  check(f1.state == f2.state && f1.domain == f2.domain);
  if (f1.state == sf::FromHeaderFacts::State::ok) {
    check(!f1.domain.empty() && f1.domain.front() != '.' && f1.domain.back() != '.');
    check(f1.domain.find("..") == std::string::npos);
    for (char c : f1.domain) check(c < 'A' || c > 'Z');
  }
  return 0;
}
