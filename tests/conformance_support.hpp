// conformance_support.hpp — for the unit tests that run the public suites
// of ../shared/conformance (SPF, DKIM, DMARC, the PSL vectors, Exim's spool
// files): where a suite's file is, and YAML read as JSON by Debian's
// python3-yaml. Users clone the project without ../shared, so an empty path
// means "skip, saying so".
#pragma once
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::conformance {

// ../shared/conformance/<relative> (a file or a directory): under
// $SLUICE_CONFORMANCE_DIR when set, else beside the checkout, else beside its
// parent (a worktree in /work/wt/NAME); "" when none has it.
inline std::string suite_path(const std::string& relative) {
  std::vector<std::filesystem::path> roots;
  if (const char* env = std::getenv("SLUICE_CONFORMANCE_DIR")) roots.emplace_back(env);
#ifdef SLUICE_SOURCE_DIR
  roots.push_back(std::filesystem::path(SLUICE_SOURCE_DIR) / "../shared/conformance");
  roots.push_back(std::filesystem::path(SLUICE_SOURCE_DIR) / "../../shared/conformance");
#endif
  for (const auto& root : roots)
    if (std::filesystem::exists(root / relative)) return (root / relative).string();
  return {};
}

// The YAML file as JSON: its one document, or with `all_documents` the
// stream's documents as an array. nullopt with `why` when python3-yaml is
// missing or the file does not parse.
inline std::optional<boost::json::value> yaml_as_json(const std::string& path, bool all_documents, std::string& why) {
  const std::string load = all_documents ? "list(yaml.safe_load_all(open(sys.argv[1], encoding=\"utf-8\")))"
                                         : "yaml.safe_load(open(sys.argv[1], encoding=\"utf-8\"))";
  const std::string command = "/usr/bin/python3 -c 'import sys, json, yaml; json.dump(" + load +
                              ", sys.stdout, default=str)' '" + path + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    why = "cannot run /usr/bin/python3";
    return std::nullopt;
  }
  std::string out;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  if (::pclose(pipe) != 0) {
    why = "reading " + path + " needs Debian's python3-yaml (scripts/install-deps.sh test): " + out;
    return std::nullopt;
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(out, ec);
  if (ec) {
    why = path + " as JSON: " + ec.message();
    return std::nullopt;
  }
  return v;
}

}  // namespace sluice::conformance
