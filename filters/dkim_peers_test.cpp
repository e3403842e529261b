// DKIM against real signers from Debian: tests/dkim/sign_with_peers.py
// signs messages with dkimpy (python3-dkim) and OpenDKIM's opendkim-testmsg,
// with keys it generates (openssl, opendkim-genkey, random Ed25519 seeds);
// the keys are served by a real unbound and our verifier must give the
// expected verdict for each signature. Then tampered copies: a signed
// header changed → fail:signature; a body word changed → fail:bodyhash;
// text appended to the body → fail:bodyhash, except beyond l= → still pass.
// These tools are installed by scripts/install-deps.sh test; a missing one
// fails the test with the script's message.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>

#include "filters/dkim_test_support.hpp"

namespace sluice::filters {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace testing;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sluice-dkim-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(DkimPeers, DkimpyAndOpendkimSignaturesVerify) {
  TempDir dir;
  const std::string script = std::string(SLUICE_SOURCE_DIR) + "/tests/dkim/sign_with_peers.py";
  const std::string cmd = "/usr/bin/python3 " + script + " " + dir.path.string() + " 2>&1";
  std::string output;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) output += buf;
    ASSERT_EQ(::pclose(p), 0) << "signing script failed: " << output;
  }
  const auto doc = json::parse(read_file(dir.path / "cases.json"));
  std::map<std::string, std::string> dns;
  for (const auto& [name, value] : doc.at("dns").as_object())
    dns[std::string(name)] = json::value_to<std::string>(value);
  auto keys = serve_keys(dns, {"example.test"});
  ASSERT_EQ(keys.error, "");
  const auto port = keys.server->port();

  int checked = 0;
  for (const auto& m : doc.at("messages").as_array()) {
    const std::string name = json::value_to<std::string>(m.at("name"));
    const std::string message = to_crlf(json::value_to<std::string>(m.at("message")));
    std::vector<std::string> expect;
    for (const auto& e : m.at("expect").as_array()) expect.push_back(json::value_to<std::string>(e));

    const auto results = verify_with_dns(message, port, std::nullopt, 1000);
    ASSERT_EQ(results.size(), expect.size()) << name;
    for (std::size_t i = 0; i < results.size(); ++i, ++checked)
      EXPECT_EQ(verdict_word(results[i]), expect[i]) << name << " #" << i << ": " << results[i].detail;
    if (!m.at("tamper").as_bool()) continue;

    const bool has_l = message.find("; l=") != std::string::npos ||
                       message.find(" l=") != std::string::npos;
    const auto tampered = [&](const std::string& copy) {
      return verdict_word(verify_with_dns(copy, port).front());
    };
    EXPECT_EQ(tampered(replace_once(message, "Subject: Lunch", "Subject: Lurch")), "fail:signature")
        << name;
    EXPECT_EQ(tampered(replace_once(message, "meet\tat noon", "meet\tat nine")), "fail:bodyhash")
        << name;
    // Appended text: beyond l= it is not signed (RFC 6376 8.2), so it passes.
    const std::string appended = message + "P.S. wire the money\r\n";
    EXPECT_EQ(tampered(appended), has_l ? expect[0] : "fail:bodyhash") << name;
    // Relaxed-only changes: trailing whitespace on a body line.
    const bool relaxed_body = expect.size() == 1 && message.find("/relaxed") != std::string::npos;
    if (relaxed_body) {  // braces: EXPECT_EQ is an if-else inside
      EXPECT_EQ(tampered(replace_once(message, "Hi Bob,  \r\n", "Hi Bob, \t \r\n")), expect[0]) << name;
    }
  }
  EXPECT_GE(checked, 20);
}

}  // namespace
}  // namespace sluice::filters
