// lmdb_test_support.hpp — for unit tests: a scratch directory, and LMDB
// files built by the real `mdb_load -n -T` (lmdb-utils) from key/value
// pairs, the way an operator builds them. Test-only (not in sluice_core).
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace sluice::storage::testing {

using Pairs = std::vector<std::pair<std::string, std::string>>;

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-lmdb-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline bool have_mdb_load() { return std::system("command -v mdb_load >/dev/null 2>&1") == 0; }

// Builds `out` (a single file with -n, else an environment directory) from
// `pairs` with mdb_load -T (plain text: key line, value line). Keys and
// values here are printable text without backslashes. Returns false with
// a test failure when mdb_load is missing or fails.
inline bool build_lmdb(const std::string& out, const Pairs& pairs, bool single_file = true) {
  if (!have_mdb_load()) {
    ADD_FAILURE() << "mdb_load not found: install lmdb-utils (scripts/install-deps.sh)";
    return false;
  }
  const std::string text = out + ".txt";
  {
    std::ofstream f(text, std::ios::binary);
    for (const auto& [k, v] : pairs) f << k << '\n' << v << '\n';
  }
  if (!single_file) std::filesystem::create_directories(out);
  const std::string cmd =
      std::string("mdb_load ") + (single_file ? "-n " : "") + "-T -f '" + text + "' '" + out + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::filesystem::remove(text);
  std::error_code ec;
  std::filesystem::remove(out + "-lock", ec);  // mdb_load's own; we read without one
  if (rc != 0) {
    ADD_FAILURE() << "mdb_load failed (" << rc << "): " << cmd;
    return false;
  }
  return true;
}

// Builds the file beside `path` and renames it into place, as an operator should.
inline bool replace_lmdb(const std::string& path, const Pairs& pairs) {
  const std::string tmp = path + ".new";
  if (!build_lmdb(tmp, pairs)) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace sluice::storage::testing
