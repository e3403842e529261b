// The queuefile export: files, names, atomicity and clean-up, both id
// formats, a 50 MB message in bounded memory, ENOSPC (on a tiny tmpfs,
// as root). With SLUICE_QUEUEFILE_OUT=<dir> set, QueuefileExport.* also
// writes sample pairs that tests/integration/test_queuefile_exim.py hands
// to a real Exim.
#include "storage/queuefile.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sluice-queuefile-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

const std::string kMessage =
    "Received: from client.example.org ([192.0.2.10]:52344)\r\n"
    "\tby gw.example (Sluice) with ESMTP\r\n"
    "\tid 1r31eq-000000003D7-0W7E;\r\n"
    "\tSun, 22 Nov 2026 02:15:16 +0000\r\n"
    "From: Alice <alice@example.org>\r\n"
    "To: bob@gw.example, carol@gw.example\r\n"
    "Subject: queuefile\r\n"
    "X-Folded: first line\r\n"
    "  second line\r\n"
    "Message-ID: <q-1@example.org>\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    ".leading dot line\r\n"
    "\r\n"
    "Last line.\r\n";

Envelope sample_envelope() {
  Envelope e;
  e.id = "1r31eq-000000003D7-0W7E";
  e.sender = "alice@example.org";
  e.recipients = {{"bob@gw.example", 0, ""}, {"carol@gw.example", 2 | 4, "rfc822;carol+x@example.net"}};
  e.received_at = 1795313716;
  e.helo = "client.example.org";
  e.protocol = "esmtp";
  e.client_addr = "192.0.2.10";
  e.client_port = 52344;
  e.envid = "abc+def";
  e.ret = "HDRS";
  return e;
}

QueuefileOptions in(const std::string& dir, EximIdFormat format = EximIdFormat::v4_97) {
  QueuefileOptions o;
  o.directory = dir;
  o.id_format = format;
  return o;
}

QueuefileResult write(const QueuefileOptions& o, const Envelope& e, std::span<const EnvelopeRecipient> r,
                      std::string_view message, const QueuefileFacts& facts = {}) {
  const MessageSource source = string_source(message, 5);  // small pieces: splits everywhere
  return write_queuefile(o, e, r, source, facts);
}

TEST(Queuefile, WritesAnEximPairWith496Id) {
  TempDir dir;
  QueuefileOptions o = in(dir.path, EximIdFormat::v4_96);
  o.originator_login = "Debian-exim";
  o.originator_uid = 101;
  o.originator_gid = 103;
  const Envelope e = sample_envelope();
  QueuefileFacts facts;
  facts.interface_address = "198.51.100.5";
  facts.interface_port = 25;
  facts.received_usec = 817774u;
  const QueuefileResult r = write(o, e, e.recipients, kMessage, facts);
  ASSERT_FALSE(r.error) << r.error.message();
  ASSERT_TRUE(is_valid_exim_id(r.exim_id, EximIdFormat::v4_96)) << r.exim_id;
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{r.exim_id + "-D", r.exim_id + "-H"}));

  EXPECT_EQ(slurp(dir.path + "/" + r.exim_id + "-D"),
            r.exim_id + "-D\nHello Bob,\n.leading dot line\n\nLast line.\n");
  const std::string expected_h = r.exim_id +
                                 "-H\n"
                                 "Debian-exim 101 103\n"
                                 "<alice@example.org>\n"
                                 "1795313716 0\n"
                                 "-received_time_usec .817774\n"
                                 "--helo_name client.example.org\n"
                                 "--host_address [192.0.2.10]:52344\n"
                                 "--interface_address [198.51.100.5]:25\n"
                                 "-received_protocol esmtp\n"
                                 "-body_linecount 4\n"
                                 "-max_received_linelength 54\n"
                                 "-deliver_firsttime\n"
                                 "-dsn_envid abc+2Bdef\n"
                                 "-dsn_ret 2\n"
                                 "XX\n"
                                 "2\n"
                                 "bob@gw.example\n"
                                 "carol@gw.example rfc822;carol+2Bx@example.net 28,12  0,-1#3\n"
                                 "\n"
                                 "152P Received: from client.example.org ([192.0.2.10]:52344)\n"
                                 "\tby gw.example (Sluice) with ESMTP\n"
                                 "\tid 1r31eq-000000003D7-0W7E;\n"
                                 "\tSun, 22 Nov 2026 02:15:16 +0000\n"
                                 "032F From: Alice <alice@example.org>\n"
                                 "037T To: bob@gw.example, carol@gw.example\n"
                                 "019  Subject: queuefile\n"
                                 "035  X-Folded: first line\n  second line\n"
                                 "030I Message-ID: <q-1@example.org>\n";
  EXPECT_EQ(slurp(dir.path + "/" + r.exim_id + "-H"), expected_h);
  struct stat st{};
  ASSERT_EQ(::stat((dir.path + "/" + r.exim_id + "-H").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(Queuefile, OnlyTheRecipientsOfThisCopy) {
  TempDir dir;
  const Envelope e = sample_envelope();
  const QueuefileResult r = write(in(dir.path), e, std::span(e.recipients).subspan(1), kMessage);
  ASSERT_FALSE(r.error);
  const std::string h = slurp(dir.path + "/" + r.exim_id + "-H");
  EXPECT_NE(h.find("XX\n1\ncarol@gw.example rfc822;"), std::string::npos) << h;
  EXPECT_EQ(h.find("bob@gw.example\n"), std::string::npos) << h;
}

TEST(Queuefile, Format497KeepsTheSluiceIdAndASecondCopyGetsAnother) {
  TempDir dir;
  const Envelope e = sample_envelope();
  const QueuefileResult a = write(in(dir.path), e, e.recipients, kMessage);
  ASSERT_FALSE(a.error);
  EXPECT_EQ(a.exim_id, e.id);
  const QueuefileResult b = write(in(dir.path), e, e.recipients, kMessage);
  ASSERT_FALSE(b.error) << b.error.message();
  EXPECT_NE(b.exim_id, e.id);
  EXPECT_TRUE(is_valid_exim_id(b.exim_id, EximIdFormat::v4_97));
  EXPECT_EQ(slurp(dir.path + "/" + b.exim_id + "-H").rfind(b.exim_id + "-H\n", 0), 0u);
  EXPECT_EQ(slurp(dir.path + "/" + b.exim_id + "-D").rfind(b.exim_id + "-D\n", 0), 0u);
  EXPECT_EQ(names_in(dir.path).size(), 4u);
}

TEST(Queuefile, ConcurrentCopiesOfOneMessageNeverClobberEachOther) {
  TempDir dir;
  const Envelope e = sample_envelope();
  std::vector<std::string> ids[4];
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        const QueuefileResult r = write(in(dir.path), e, e.recipients, kMessage);
        EXPECT_FALSE(r.error) << r.error.message();
        ids[t].push_back(r.exim_id);
      }
    });
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 60u);
  EXPECT_EQ(names_in(dir.path).size(), 120u) << "temporary files left, or a pair overwritten";
  for (const auto& id : all) {
    EXPECT_EQ(slurp(dir.path + "/" + id + "-H").rfind(id + "-H\n", 0), 0u) << id;
    EXPECT_EQ(slurp(dir.path + "/" + id + "-D").rfind(id + "-D\n", 0), 0u) << id;
  }
}

TEST(Queuefile, BodyWithoutFinalLineEndAndWithNuls) {
  TempDir dir;
  const Envelope e = sample_envelope();
  const std::string message = std::string("Subject: x\r\n\r\na\0b\r\nno end", 25);
  const QueuefileResult r = write(in(dir.path), e, e.recipients, message);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(slurp(dir.path + "/" + r.exim_id + "-D"), r.exim_id + "-D\n" + std::string("a\0b\nno end\n", 11));
  const std::string h = slurp(dir.path + "/" + r.exim_id + "-H");
  EXPECT_NE(h.find("-body_linecount 2\n"), std::string::npos) << h;
  EXPECT_NE(h.find("-body_zerocount 1\n"), std::string::npos) << h;
}

// A crash between writing a pair's temporary files and renaming them left
// them in the export directory for good. Only our exact names go.
TEST(Queuefile, TemporaryFilesOfInterruptedExportsAreRemovedAndNothingElse) {
  TempDir dir;
  const std::string id97 = "1r31eq-000000003D7-0W7E", id96 = "1r31eq-00003D-0W";
  const std::set<std::string> ours = {"." + id97 + "-D.tmp", "." + id97 + "-H.tmp", "." + id96 + "-D.tmp"};
  const std::set<std::string> others = {
      id97 + "-D", id97 + "-H",                  // a pair written in full
      id97 + "-D.tmp", "." + id97 + "-D.tmp.keep", "." + id97 + "-X.tmp", "." + id97 + "-D.tmpx",
      ".1r31eq-00003D-0W7-D.tmp", ".short-D.tmp", ".-D.tmp",  // no valid id
      "hdr.1234", "." + id96 + "-H.tmp~"};
  for (const auto& name : ours) std::ofstream(dir.path + "/" + name) << "partial";
  for (const auto& name : others) std::ofstream(dir.path + "/" + name) << "not ours";
  fs::create_directory(dir.path + "/." + id96 + "-H.tmp");  // the name, but a directory
  // Written after this process started: an export in progress, perhaps
  // another gateway's into the same directory.
  const std::string in_progress = "." + id97 + "-H.tmp";
  fs::last_write_time(dir.path + "/" + in_progress, fs::file_time_type::clock::now() + std::chrono::seconds(10));
  const auto started = fs::file_time_type::clock::now();
  std::error_code ec;
  const std::vector<std::string> removed = remove_interrupted_exports(dir.path, started, ec);
  EXPECT_FALSE(ec) << ec.message();
  std::set<std::string> removed_expected = ours;
  removed_expected.erase(in_progress);
  EXPECT_EQ(std::set<std::string>(removed.begin(), removed.end()), removed_expected);
  std::set<std::string> left = others;
  left.insert("." + id96 + "-H.tmp");
  left.insert(in_progress);
  EXPECT_EQ(names_in(dir.path), left);

  remove_interrupted_exports(dir.path + "/missing", started, ec);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
}

TEST(Queuefile, ErrorsLeaveNothingBehind) {
  TempDir dir;
  const Envelope e = sample_envelope();
  // No recipients: nothing to export.
  EXPECT_EQ(write(in(dir.path), e, {}, kMessage).error, std::errc::invalid_argument);
  // A source that fails half-way.
  MessageSource failing = [](const ChunkSink& sink) -> std::error_code {
    if (auto ec = sink("Subject: x\r\n\r\nbody\r\n")) return ec;
    return std::make_error_code(std::errc::io_error);
  };
  EXPECT_EQ(write_queuefile(in(dir.path), e, e.recipients, failing).error, std::errc::io_error);
  // A header block larger than Exim would take.
  std::string huge = "Subject: x\r\n";
  while (huge.size() < 1100 * 1024) huge += "X-Filler: " + std::string(100, 'f') + "\r\n";
  EXPECT_EQ(write(in(dir.path), e, e.recipients, huge).error, std::errc::message_size);
  EXPECT_TRUE(names_in(dir.path).empty());
  // A directory that does not exist.
  EXPECT_EQ(write(in(dir.path + "/missing"), e, e.recipients, kMessage).error, std::errc::no_such_file_or_directory);
}

long status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  return -1;
}

TEST(Queuefile, FiftyMegabytesThroughTheFileSourceInBoundedMemory) {
  TempDir dir;
  const std::string stored = dir.path + "/stored.msg";
  const std::string prefix = "{\"an\":\"envelope record before the message\"}\n";
  std::uint64_t lines = 0;
  {
    std::ofstream out(stored, std::ios::binary);
    out << prefix << "Received: from x\r\n\tby gw.example\r\nSubject: big\r\n\r\n";
    const std::string line = std::string(98, 'b') + "\r\n";
    for (std::uint64_t written = 0; written < 50ull * 1024 * 1024; written += line.size(), ++lines) out << line;
  }
  const std::uint64_t length = fs::file_size(stored) - prefix.size();
  fs::create_directory(dir.path + "/out");
  const Envelope e = sample_envelope();
  // Reset the peak-RSS mark (Linux clear_refs "5"), so VmHWM measures this export only.
  bool can_measure = false;
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5" << std::flush;
    can_measure = clear.good();
  }
  const long rss_before = status_kib("VmRSS:");
  const MessageSource source = file_source(stored, prefix.size(), length);
  const QueuefileResult r = write_queuefile(in(dir.path + "/out"), e, e.recipients, source);
  const long peak = status_kib("VmHWM:");
  std::printf("50 MB export: peak RSS grew by %ld KiB (measured: %s)\n", peak - rss_before, can_measure ? "yes" : "no");
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_EQ(fs::file_size(dir.path + "/out/" + r.exim_id + "-D"), r.exim_id.size() + 3 + lines * 99);
  EXPECT_NE(slurp(dir.path + "/out/" + r.exim_id + "-H").find("-body_linecount " + std::to_string(lines) + "\n"),
            std::string::npos);
#if defined(__SANITIZE_ADDRESS__)
  const long bound_kib = 32 * 1024;  // ASan's shadow and quarantine cost memory of their own
#else
  const long bound_kib = 8 * 1024;
#endif
  if (can_measure && rss_before > 0 && peak > 0) {
    EXPECT_LT(peak - rss_before, bound_kib) << "peak RSS grew by " << (peak - rss_before) << " KiB for a 50 MB message";
  }
  // A stored file shorter than promised is an error, not a short message.
  const MessageSource truncated = file_source(stored, prefix.size(), length + 10);
  EXPECT_EQ(write_queuefile(in(dir.path + "/out"), e, e.recipients, truncated).error, std::errc::io_error);
}

TEST(Queuefile, NoSpaceSurfacesAndLeavesNoPartialFiles) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tiny tmpfs to fill needs root";
  TempDir dir;
  if (::mount("tmpfs", dir.path.c_str(), "tmpfs", 0, "size=128k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{dir.path};
  const Envelope e = sample_envelope();
  std::string big = "Subject: big\r\n\r\n";
  while (big.size() < 1024 * 1024) big += std::string(78, 'x') + "\r\n";
  const QueuefileResult r = write(in(dir.path), e, e.recipients, big);
  EXPECT_EQ(r.error, std::errc::no_space_on_device) << r.error.message();
  EXPECT_TRUE(r.exim_id.empty());
  EXPECT_TRUE(names_in(dir.path).empty());
  // A small message still fits afterwards: the failed one took its space back.
  const QueuefileResult ok = write(in(dir.path), e, e.recipients, kMessage);
  EXPECT_FALSE(ok.error) << ok.error.message();
}

// ---- Sample pairs for the real-Exim integration test ----

struct ExportSample {
  std::string name;
  Envelope envelope;
  std::vector<EnvelopeRecipient> recipients;
  std::string message;
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::vector<ExportSample> export_samples() {
  std::vector<ExportSample> out;
  Envelope base = sample_envelope();
  base.envid.clear();
  base.ret.clear();
  base.recipients = {{"bob@gw.example", 0, ""}};
  out.push_back({"plain", base, base.recipients, kMessage});

  Envelope folded = base;
  folded.client_addr = "2001:db8::10";
  folded.client_port = 40000;
  folded.client_name = "client.example.org";
  out.push_back({"folded", folded, folded.recipients,
                 "Received: from client.example.org (client.example.org [2001:db8::10]:40000)\r\n"
                 "\tby gw.example (Sluice) with ESMTP\r\n\tid x; Sun, 22 Nov 2026 02:15:16 +0000\r\n"
                 "From: Alice <alice@example.org>\r\n"
                 "To: bob@gw.example\r\n"
                 "Subject: a subject that is folded\r\n\tover two lines\r\n"
                 "References: <a@example.org>\r\n <b@example.org>\r\n\t<c@example.org>\r\n"
                 "X-Empty:\r\n"
                 "\r\n"
                 "body\r\n"});

  Envelope dsn = sample_envelope();
  dsn.recipients.push_back({"dave@gw.example", 1, ""});
  dsn.recipients.push_back({"erin@gw.example", 8, ""});
  out.push_back({"dsn", dsn, {dsn.recipients[1], dsn.recipients[2], dsn.recipients[3]},
                 "Received: from client.example.org ([192.0.2.10]:52344)\r\n\tby gw.example (Sluice) with ESMTP\r\n"
                 "From: <alice@example.org>\r\nSubject: dsn\r\n\r\nDSN body\r\n"});

  Envelope eight = base;
  eight.body_type = "8BITMIME";
  out.push_back({"8bitmime", eight, eight.recipients,
                 "Received: from client.example.org ([192.0.2.10]:52344)\r\n\tby gw.example (Sluice) with ESMTP\r\n"
                 "From: <alice@example.org>\r\nSubject: 8bit\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                 "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x82\xac\r\n"});

  Envelope large = base;
  large.sender.clear();  // null sender too
  std::string big = "Received: from client.example.org ([192.0.2.10]:52344)\r\n\tby gw.example (Sluice) with ESMTP\r\n"
                    "From: <alice@example.org>\r\nSubject: large\r\n\r\n";
  for (int i = 0; big.size() < 1024 * 1024; ++i) big += "line " + std::to_string(i) + " " + std::string(70, 'z') + "\r\n";
  out.push_back({"large", large, large.recipients, big});
  return out;
}

TEST(QueuefileExport, WritesSamplesForTheEximTest) {
  const char* out_dir = std::getenv("SLUICE_QUEUEFILE_OUT");
  if (!out_dir) GTEST_SKIP() << "SLUICE_QUEUEFILE_OUT not set (tests/integration/test_queuefile_exim.py sets it)";
  const std::string pairs = std::string(out_dir) + "/pairs";
  fs::create_directories(pairs);
  std::ofstream manifest(std::string(out_dir) + "/manifest.json");
  manifest << "[\n";
  bool first = true;
  for (const ExportSample& s : export_samples()) {
    const std::string eml = std::string(out_dir) + "/" + s.name + ".eml";
    std::ofstream(eml, std::ios::binary) << s.message;
    // The large one goes through the file source, as big stored messages do.
    const MessageSource source = s.name == "large" ? file_source(eml, 0, s.message.size()) : string_source(s.message);
    const QueuefileResult r = write_queuefile(in(pairs, EximIdFormat::v4_96), s.envelope, s.recipients, source);
    ASSERT_FALSE(r.error) << s.name << ": " << r.error.message();
    manifest << (first ? "" : ",\n") << "{\"name\": " << json_string(s.name) << ", \"id\": " << json_string(r.exim_id)
             << ", \"sender\": " << json_string(s.envelope.sender) << ", \"recipients\": [";
    for (std::size_t i = 0; i < s.recipients.size(); ++i)
      manifest << (i ? ", " : "") << json_string(s.recipients[i].address);
    manifest << "]}";
    first = false;
  }
  manifest << "\n]\n";
  // One pair with a 23-character id: Exim 4.96 must not take it (why the
  // id format is an option).
  const std::string pairs497 = std::string(out_dir) + "/pairs497";
  fs::create_directories(pairs497);
  const std::vector<ExportSample> all = export_samples();
  const ExportSample& plain = all.front();
  const MessageSource source = string_source(plain.message);
  const QueuefileResult r = write_queuefile(in(pairs497), plain.envelope, plain.recipients, source);
  ASSERT_FALSE(r.error) << r.error.message();
  std::ofstream(pairs497 + "/id") << r.exim_id;
}

}  // namespace
}  // namespace sluice::storage
