#include "gateway/export_directories.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gateway/log.hpp"

namespace sluice::gateway {

namespace {

// "" when `dir` is a directory this process can create files in.
std::string unusable(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return errno == ENOENT ? "does not exist" : std::string("cannot be examined: ") + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "is not a directory";
  // W_OK and X_OK: a queuefile pair is created, written and renamed there.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return std::string("is not writable: ") + std::strerror(errno);
  return "";
}

}  // namespace

std::vector<ExportDirectoryProblem> check_export_directories(const Config& config) {
  std::vector<ExportDirectoryProblem> problems;
  auto check = [&](const char* owner, const std::string& name, const std::string& dir) {
    if (dir.empty()) return;
    if (std::string why = unusable(dir); !why.empty()) problems.push_back({owner, name, dir, std::move(why)});
  };
  for (const auto& r : config.routes)
    if (r.action == RouteActionConfig::queuefile) check("route", r.name, r.directory);
  for (const auto& p : config.policy) check("policy", p.name, p.quarantine);
  return problems;
}

void log_export_directory_problems(const Config& config) {
  for (const auto& p : check_export_directories(config))
    log_warn("export_directory_unusable")
        .field(p.owner, p.name)
        .field("directory", p.directory)
        .field("problem", p.problem)
        .field("effect", "recipients sent there are deferred and retried until it is usable");
}

}  // namespace sluice::gateway
