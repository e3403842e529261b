// Our -H/-D formatting against spool pairs written by a real Exim 4.96 and
// by Exim's test suite (../shared/conformance/exim-spool/): the message is
// rebuilt as Sluice stores it (CRLF) from each sample, converted back, and
// compared field by field. Skips when the conformance folder is absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "storage/exim_header_file.hpp"
#include "storage/exim_message_converter.hpp"
#include "tests/conformance_support.hpp"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;

std::string conformance_dir() { return conformance::suite_path("exim-spool"); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string lf_to_crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

struct Sample {
  std::string id;
  std::vector<std::string> envelope_lines;  // lines before the blank line
  std::string header_records;               // everything after it
  std::string data;                          // -D after its first line
};

std::vector<Sample> samples() {
  std::vector<Sample> out;
  const std::string dir = conformance_dir();
  for (const char* sub : {"exim-4.96-generated", "exim-testsuite"}) {
    for (const auto& entry : fs::directory_iterator(fs::path(dir) / sub)) {
      const std::string name = entry.path().filename().string();
      if (name.size() < 3 || name.substr(name.size() - 2) != "-H") continue;
      Sample s;
      s.id = name.substr(0, name.size() - 2);
      const std::string h = slurp(entry.path());
      const std::size_t blank = h.find("\n\n");
      std::istringstream lines(h.substr(0, blank + 1));
      for (std::string l; std::getline(lines, l);) s.envelope_lines.push_back(l);
      s.header_records = h.substr(blank + 2);
      const std::string d = slurp(entry.path().parent_path() / (s.id + "-D"));
      s.data = d.substr(d.find('\n') + 1);
      out.push_back(std::move(s));
    }
  }
  return out;
}

struct Record {
  char type;
  std::string text;
};

// Parses "<len><type> <text>" records, checking that the lengths consume
// the text exactly.
std::vector<Record> parse_records(std::string_view s) {
  std::vector<Record> out;
  while (!s.empty()) {
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    EXPECT_GE(i, 3u);
    const std::size_t len = std::stoul(std::string(s.substr(0, i)));
    EXPECT_EQ(s[i + 1], ' ');
    out.push_back({s[i], std::string(s.substr(i + 2, len))});
    s.remove_prefix(i + 2 + len);
  }
  return out;
}

class EximSpoolConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if (conformance_dir().empty())
      GTEST_SKIP() << "../shared/conformance/exim-spool is absent: no Exim samples to compare with";
  }
};

TEST_F(EximSpoolConformance, HeaderRecordsAndBodyMatchExim) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.id);
    const bool wireformat =
        std::find(s.envelope_lines.begin(), s.envelope_lines.end(), "-spool_file_wireformat") != s.envelope_lines.end();
    // The message as Sluice would store it: live headers, CRLF, blank line, body.
    std::string message, expected_records;
    for (const Record& r : parse_records(s.header_records)) {
      if (r.type == '*') continue;  // deleted headers were never part of the message
      message += lf_to_crlf(r.text);
      append_exim_header_record(expected_records, r.type, r.text);
    }
    message += "\r\n";
    message += wireformat ? s.data : lf_to_crlf(s.data);
    std::string expected_body = s.data;
    if (wireformat) expected_body.erase(std::remove(expected_body.begin(), expected_body.end(), '\r'), expected_body.end());

    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, message.size()}) {  // split invariance
      std::string body;
      EximMessageConverter conv([&body](std::string_view b) {
        body.append(b);
        return std::error_code{};
      });
      for (std::size_t pos = 0; pos < message.size(); pos += piece)
        ASSERT_FALSE(conv.feed(std::string_view(message).substr(pos, piece)));
      ASSERT_FALSE(conv.finish());
      EXPECT_EQ(conv.header_records(), expected_records);
      EXPECT_EQ(body, expected_body);
      std::uint64_t lines = std::count(expected_body.begin(), expected_body.end(), '\n');
      EXPECT_EQ(conv.counts().body_lines, lines);
      for (const auto& l : s.envelope_lines) {
        if (l.rfind("-body_linecount ", 0) == 0) {
          EXPECT_EQ(l, "-body_linecount " + std::to_string(lines));
        }
      }
    }
  }
}

// Reads the fields we write back out of a sample's envelope lines.
EximHeaderPreamble parse_preamble(const std::vector<std::string>& lines) {
  EximHeaderPreamble p;
  p.id = lines[0].substr(0, lines[0].size() - 2);
  {
    std::istringstream who(lines[1]);
    who >> p.originator_login >> p.originator_uid >> p.originator_gid;
  }
  p.sender = lines[2].substr(1, lines[2].size() - 2);
  p.received_at = std::stoll(lines[3]);
  std::size_t i = 4;
  auto addr_port = [](const std::string& v, std::string& addr, std::uint16_t& port) {
    const std::size_t close = v.rfind("]:");
    addr = v.substr(1, close - 1);
    port = static_cast<std::uint16_t>(std::stoul(v.substr(close + 2)));
  };
  for (; lines[i] != "XX"; ++i) {
    std::string l = lines[i];
    l.erase(0, l[1] == '-' ? 2 : 1);
    const std::size_t sp = l.find(' ');
    const std::string name = l.substr(0, sp);
    const std::string value = sp == std::string::npos ? "" : l.substr(sp + 1);
    if (name == "aclc" || name == "aclm") {  // value follows on the next lines, LEN bytes
      std::size_t len = std::stoul(value.substr(value.find(' ') + 1));
      while (true) {
        const std::size_t n = lines[++i].size() + 1;
        if (n >= len) break;
        len -= n;
      }
    } else if (name == "received_time_usec") p.received_usec = std::stoul(value.substr(1));
    else if (name == "helo_name") p.helo_name = value;
    else if (name == "host_address") addr_port(value, p.host_address, p.host_port);
    else if (name == "host_name") p.host_name = value;
    else if (name == "interface_address") addr_port(value, p.interface_address, p.interface_port);
    else if (name == "received_protocol") p.received_protocol = value;
    else if (name == "body_linecount") p.body_linecount = std::stoull(value);
    else if (name == "max_received_linelength") p.max_received_linelength = std::stoull(value);
    else if (name == "body_zerocount") p.body_zerocount = std::stoull(value);
    else if (name == "auth_id") p.auth_id = value;
    else if (name == "tls_cipher") p.tls_cipher = value;
    else if (name == "smtputf8") p.smtputf8 = true;
    else if (name == "dsn_envid") p.dsn_envid = value;
    else if (name == "dsn_ret") p.dsn_ret = std::stoi(value);
  }
  const std::size_t count = std::stoul(lines[++i]);
  for (std::size_t k = 0; k < count; ++k) {
    const std::string& l = lines[++i];
    EximRecipient r;
    if (l.size() > 2 && l.substr(l.size() - 2) == "#3") {
      std::vector<std::string> f;
      std::istringstream fields(l);
      for (std::string t; std::getline(fields, t, ' ');) f.push_back(t);
      r.address = f[0];
      r.orcpt = f[1];
      r.dsn_flags = std::stoul(f[2].substr(f[2].find(',') + 1));
    } else {
      r.address = l;
    }
    p.recipients.push_back(r);
  }
  return p;
}

std::string name_of(const std::string& line) {
  if (line.empty() || line[0] != '-') return {};
  std::string l = line.substr(line[1] == '-' ? 2 : 1);
  return l.substr(0, l.find(' '));
}

std::vector<std::string> keep(const std::vector<std::string>& lines, const std::set<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (name_of(l).empty() || names.count(name_of(l))) out.push_back(l);
  return out;
}

TEST_F(EximSpoolConformance, EnvelopeLinesMatchExim) {
  // The variable lines we write; everything else in the samples (ACL
  // variables, ident, TLS resumption, frozen state...) Sluice never has.
  const std::set<std::string> ours{"received_time_usec", "helo_name", "host_address", "host_name",
                                   "interface_address", "received_protocol", "body_linecount",
                                   "max_received_linelength", "body_zerocount", "auth_id", "deliver_firsttime",
                                   "tls_cipher", "smtputf8", "dsn_envid", "dsn_ret"};
  int compared = 0;
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.id);
    std::vector<std::string> sample_lines = s.envelope_lines;
    // ACL variable values are not "-name" lines: drop them with their names.
    std::vector<std::string> cleaned;
    for (std::size_t i = 0; i < sample_lines.size(); ++i) {
      const std::string n = name_of(sample_lines[i]);
      if (n == "aclc" || n == "aclm") {
        std::size_t len = std::stoul(sample_lines[i].substr(sample_lines[i].rfind(' ') + 1));
        while (true) {
          const std::size_t k = sample_lines[++i].size() + 1;
          if (k >= len) break;
          len -= k;
        }
        continue;
      }
      cleaned.push_back(sample_lines[i]);
    }
    const EximHeaderPreamble p = parse_preamble(s.envelope_lines);
    std::string text = format_exim_header_preamble(p);
    ASSERT_EQ(text.substr(text.size() - 2), "\n\n");  // ends with the blank line
    text.pop_back();
    std::istringstream ours_text(text);
    std::vector<std::string> written;
    for (std::string l; std::getline(ours_text, l);) written.push_back(l);
    std::set<std::string> in_sample;
    for (const auto& l : cleaned) in_sample.insert(name_of(l));
    EXPECT_EQ(keep(written, in_sample), keep(cleaned, ours));
    ++compared;
  }
  EXPECT_GE(compared, 6);
}

TEST(EximHeaderFile, DsnRecipientsAsEximWritesThem) {
  EximHeaderPreamble p;
  p.id = "1xUx73-00057D-33";
  p.originator_login = "root";
  p.sender = "alice@example.org";
  p.recipients = {{"bob@gw.example", "", 0},
                  {"carol@gw.example", "rfc822;carol@example.net", exim_dsn_flags(2 | 4)},
                  {"dave@gw.example", "", exim_dsn_flags(1)}};
  const std::string h = format_exim_header_preamble(p);
  EXPECT_NE(h.find("\n3\nbob@gw.example\ncarol@gw.example rfc822;carol@example.net 24,12  0,-1#3\n"
                   "dave@gw.example  0,2  0,-1#3\n\n"),
            std::string::npos)
      << h;
  EXPECT_EQ(exim_dsn_flags(8), 0x10u);  // DELAY
}

TEST(EximHeaderFile, LineBreaksInValuesCannotForgeLines) {
  EximHeaderPreamble p;
  p.id = "1xUx73-00057D-33";
  p.originator_login = "x";
  p.sender = "a@b\n-frozen 1";
  p.helo_name = "evil\r\n-local";
  p.recipients = {{"r@x\nY", "", 0}};
  const std::string h = format_exim_header_preamble(p);
  EXPECT_EQ(h.find("\n-frozen"), std::string::npos) << h;
  EXPECT_EQ(h.find("\n-local"), std::string::npos) << h;
  EXPECT_NE(h.find("\nr@x Y\n"), std::string::npos) << h;
}

}  // namespace
}  // namespace sluice::storage
