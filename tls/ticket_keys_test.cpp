// TicketKeys: sealing and opening, rotation and expiry in memory mode, the
// key file format and reload in file mode.
#include "tls/ticket_keys.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace sluice::tls {
namespace {

using namespace std::chrono_literals;
using Clock = TicketKeys::Clock;

struct Ticket {
  std::array<std::uint8_t, 16> name{}, iv{};
  std::array<std::uint8_t, 32> mac{};
  std::vector<std::uint8_t> data = std::vector<std::uint8_t>(100, 0x5a);
};

bool seal(TicketKeys& k, Ticket& t, Clock::time_point now) {
  return k.seal(std::span<std::uint8_t, 16>(t.name), std::span<std::uint8_t, 16>(t.iv),
                std::span<std::uint8_t, 32>(t.mac), t.data, now);
}
// Two key lines: base64 of 48 bytes each.
constexpr std::string_view k1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";
constexpr std::string_view k2 = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKT";

// A directory of its own for a test's key files, removed at the end.
struct KeyDir {
  explicit KeyDir(std::string_view name)
      : path(std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~KeyDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

TicketOpen open(TicketKeys& k, Ticket t, Clock::time_point now) {
  return k.open(std::span<const std::uint8_t, 16>(t.name), std::span<const std::uint8_t, 16>(t.iv),
                std::span<const std::uint8_t, 32>(t.mac), t.data, now);
}

TEST(TicketKeys, SealsAndOpens) {
  TicketKeys k({3600s, 7200s, {}});
  Ticket t;
  const auto now = Clock::now();
  ASSERT_TRUE(seal(k, t, now));
  EXPECT_NE(t.data, std::vector<std::uint8_t>(100, 0x5a));  // encrypted in place
  Ticket copy = t;
  EXPECT_EQ(open(k, copy, now), TicketOpen::ok);
  Ticket tampered = t;
  tampered.data[7] ^= 1;
  EXPECT_EQ(open(k, tampered, now), TicketOpen::bad);
  Ticket other_name = t;
  other_name.name[0] ^= 1;
  EXPECT_EQ(open(k, other_name, now), TicketOpen::unknown_key);
}

TEST(TicketKeys, RotatesAndKeepsOldKeysForTheLifetime) {
  TicketKeys k({3600s, 7200s, {}});
  const auto t0 = Clock::now();
  Ticket early;
  ASSERT_TRUE(seal(k, early, t0));
  // One rotation later: a new key seals; the old one still opens, asking for renewal.
  Ticket later;
  ASSERT_TRUE(seal(k, later, t0 + 3601s));
  EXPECT_NE(later.name, early.name);
  EXPECT_EQ(open(k, early, t0 + 3601s), TicketOpen::ok_renew);
  EXPECT_EQ(open(k, later, t0 + 3601s), TicketOpen::ok);
  // A ticket sealed just before the rotation stays good for its lifetime after it...
  EXPECT_EQ(open(k, early, t0 + 3601s + 7100s), TicketOpen::ok_renew);
  // ...and not beyond: the key is forgotten.
  EXPECT_EQ(open(k, early, t0 + 3601s + 7300s), TicketOpen::unknown_key);
  EXPECT_LE(k.key_count(), 3u);
}

TEST(TicketKeys, KeyFileFormat) {
  std::vector<TicketKey> keys;
  std::string error;
  const std::string good = "# comment\n\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n";
  ASSERT_TRUE(TicketKeys::parse_key_text(good, keys, error)) << error;
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].name[1], 1);
  EXPECT_EQ(keys[0].secret[0], 16);
  keys.clear();
  EXPECT_FALSE(TicketKeys::parse_key_text("AAECAwQF\n", keys, error));  // too short
  EXPECT_NE(error.find("line 1"), std::string::npos);
  EXPECT_FALSE(TicketKeys::parse_key_text("not base64!\n", keys, error));
}

TEST(TicketKeys, FileModeLastKeySealsAllOpen) {
  const KeyDir dir("sluice-keys");
  const auto file = dir.path / "keys";
  std::ofstream(file) << k1 << "\n";
  TicketKeys a({3600s, 7200s, file.string()});
  std::string error;
  ASSERT_TRUE(a.reload(error)) << error;
  EXPECT_FALSE(a.file_changed());
  Ticket t;
  ASSERT_TRUE(seal(a, t, Clock::now()));
  std::ofstream(file) << k1 << "\n" << k2 << "\n";
  EXPECT_TRUE(a.file_changed());
  ASSERT_TRUE(a.reload(error));
  EXPECT_EQ(a.key_count(), 2u);
  EXPECT_EQ(open(a, t, Clock::now()), TicketOpen::ok_renew);  // k1 opens, k2 seals now
  std::ofstream(file) << "garbage\n";
  EXPECT_TRUE(a.file_changed());
  EXPECT_FALSE(a.reload(error));
  EXPECT_EQ(a.key_count(), 2u);  // kept
  // The refused bytes are not tried again until the file changes once more.
  EXPECT_FALSE(a.file_changed());
  std::ofstream(file) << k2 << "\n";
  EXPECT_TRUE(a.file_changed());
  ASSERT_TRUE(a.reload(error)) << error;
  EXPECT_EQ(a.key_count(), 1u);
}

TEST(TicketKeys, DirectoryEmptiedOfItsKeysIsAChange) {
  const KeyDir dir("sluice-keys-dir");
  const auto file = dir.path / "1";
  std::ofstream(file) << k1 << "\n";
  TicketKeys a({3600s, 7200s, dir.path.string()});
  std::string error;
  ASSERT_TRUE(a.reload(error)) << error;
  std::filesystem::remove(file);
  std::ofstream(dir.path / ".hidden") << "not a key file\n";  // dot-files are not key files
  EXPECT_TRUE(a.file_changed());
  EXPECT_FALSE(a.reload(error));
  EXPECT_NE(error.find("no ticket key found"), std::string::npos) << error;
  EXPECT_EQ(a.key_count(), 1u);  // kept
  EXPECT_FALSE(a.file_changed());  // refused once
  a.forget_refusal();              // as a SIGHUP does
  EXPECT_TRUE(a.file_changed());
}

TEST(TicketKeys, MissingFileIsSaidToBeMissing) {
  TicketKeys a({3600s, 7200s, "/nonexistent/sluice-ticket-keys"});
  std::string error;
  EXPECT_FALSE(a.reload(error));
  EXPECT_NE(error.find("cannot read"), std::string::npos) << error;
}

TEST(TicketKeys, FileReplacedByRenameWithItsOldTimeAndSizeIsSeen) {
  // `cp -p` of a backup then `mv` over the file: same size, same mtime; only
  // the inode (and ctime) tell it is another file.
  const KeyDir dir("sluice-keys-mv");
  const auto file = dir.path / "keys";
  const auto next = dir.path / ".keys.new";
  std::ofstream(file) << k1 << "\n";
  TicketKeys a({3600s, 7200s, file.string()});
  std::string error;
  ASSERT_TRUE(a.reload(error)) << error;
  std::ofstream(next) << k2 << "\n";
  std::filesystem::last_write_time(next, std::filesystem::last_write_time(file));
  ASSERT_EQ(std::filesystem::file_size(next), std::filesystem::file_size(file));
  std::filesystem::rename(next, file);
  EXPECT_TRUE(a.file_changed());
  Ticket t;
  ASSERT_TRUE(a.reload(error)) << error;
  ASSERT_TRUE(seal(a, t, Clock::now()));
  TicketKeys only_k2_sealing({3600s, 7200s, file.string()});
  ASSERT_TRUE(only_k2_sealing.reload(error)) << error;
  EXPECT_EQ(open(only_k2_sealing, t, Clock::now()), TicketOpen::ok);
}

}  // namespace
}  // namespace sluice::tls
