// The start-up check of queuefile route and quarantine directories.
#include "gateway/export_directories.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace sluice::gateway {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sluice-exportdir-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path = made;
  }
  ~TempDir() { fs::remove_all(path); }
};

RouteConfig route(std::string name, RouteActionConfig action, std::string dir) {
  RouteConfig r;
  r.name = std::move(name);
  r.action = action;
  r.directory = std::move(dir);
  return r;
}

TEST(ExportDirectories, UsableDirectoriesAndOtherRoutesAreQuiet) {
  TempDir d;
  Config c;
  c.routes.push_back(route("scan", RouteActionConfig::queuefile, d.path));
  c.routes.push_back(route("relay", RouteActionConfig::relay, "/nonexistent/never/read"));
  PolicyRule p;
  p.name = "spam";
  p.quarantine = d.path;
  c.policy.push_back(p);
  EXPECT_TRUE(check_export_directories(c).empty());
}

TEST(ExportDirectories, MissingAndNotADirectoryAreNamed) {
  TempDir d;
  const std::string file = d.path + "/a-file";
  std::ofstream(file) << "x";
  Config c;
  c.routes.push_back(route("scan", RouteActionConfig::queuefile, d.path + "/missing"));
  PolicyRule p;
  p.name = "spam";
  p.quarantine = file;
  c.policy.push_back(p);
  const auto problems = check_export_directories(c);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].owner, "route");
  EXPECT_EQ(problems[0].name, "scan");
  EXPECT_EQ(problems[0].directory, d.path + "/missing");
  EXPECT_EQ(problems[0].problem, "does not exist");
  EXPECT_EQ(problems[1].owner, "policy");
  EXPECT_EQ(problems[1].name, "spam");
  EXPECT_EQ(problems[1].problem, "is not a directory");
}

}  // namespace
}  // namespace sluice::gateway
