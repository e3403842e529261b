// The shared DKIM conformance cases (../shared/conformance/dkim/cases.json:
// RFC 8463 Appendix A, Stalwart's and dkimpy's vectors, an Exim signature),
// every key served by a real unbound on loopback and looked up through the
// c-ares resolver. Each case is also verified with the message fed in
// 1-byte and 7-byte pieces, which must not change any verdict (the body
// hashes stream). Skipped, with the reason, when the folder is absent.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "filters/dkim_test_support.hpp"
#include "tests/conformance_support.hpp"

namespace sluice::filters {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace testing;

// The suite's folder (where cases.json is), if ../shared/conformance has it.
std::optional<fs::path> conformance_dir() {
  const std::string cases = sluice::conformance::suite_path("dkim/cases.json");
  if (cases.empty()) return std::nullopt;
  return fs::path(cases).parent_path();
}

struct Case {
  std::string id;
  std::string message;  // CRLF
  std::map<std::string, std::string> dns;
  std::optional<std::uint64_t> now;
  std::vector<std::optional<std::string>> expect;
};

Case load_case(const fs::path& dir, const json::object& c) {
  Case out;
  out.id = json::value_to<std::string>(c.at("id"));
  const std::string text = read_file(dir / json::value_to<std::string>(c.at("file")));
  if (c.at("format").as_string() == "stalwart") {
    // "<owner> <TXT value>" lines, an empty line, then the message.
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t eol = text.find('\n', pos);
      std::string line = text.substr(pos, eol - pos);
      pos = eol + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) break;
      const std::size_t sp = line.find(' ');
      out.dns[line.substr(0, sp)] = line.substr(sp + 1);
    }
    out.message = to_crlf(text.substr(pos));
  } else {
    out.message = to_crlf(text);
    for (const auto& [name, value] : c.at("dns").as_object())
      out.dns[std::string(name)] = json::value_to<std::string>(value);
  }
  if (auto* now = c.if_contains("now")) out.now = now->to_number<std::uint64_t>();
  for (const auto& e : c.at("expect").as_array())
    out.expect.push_back(e.is_null() ? std::nullopt
                                     : std::optional(json::value_to<std::string>(e)));
  return out;
}

TEST(DkimConformance, AllCasesAllVerdicts) {
  const auto dir = conformance_dir();
  if (!dir) GTEST_SKIP() << "shared/conformance/dkim is absent (set SLUICE_CONFORMANCE_DIR)";
  const auto doc = json::parse(read_file(*dir / "cases.json"));
  int verdicts = 0, matched = 0, cases = 0;
  for (const auto& v : doc.at("cases").as_array()) {
    const Case c = load_case(*dir, v.as_object());
    ++cases;
    auto keys = serve_keys(c.dns, signing_domains(c.message));
    ASSERT_EQ(keys.error, "") << c.id;
    for (std::size_t piece : {std::size_t{65536}, std::size_t{7}, std::size_t{1}}) {
      const auto results = verify_with_dns(c.message, keys.server->port(), c.now, piece);
      ASSERT_EQ(results.size(), c.expect.size()) << c.id;
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (!c.expect[i]) continue;
        const std::string got = verdict_word(results[i]);
        if (piece == 65536) {
          ++verdicts;
          if (got == *c.expect[i]) ++matched;
        }
        EXPECT_EQ(got, *c.expect[i]) << c.id << " signature " << i << " (pieces of " << piece
                                     << "): " << results[i].detail;
      }
    }
  }
  std::cout << "[ DKIM conformance ] " << matched << "/" << verdicts << " verdicts in " << cases
            << " cases\n";
  EXPECT_EQ(cases, 17);
  EXPECT_EQ(verdicts, 25);
}

}  // namespace
}  // namespace sluice::filters
