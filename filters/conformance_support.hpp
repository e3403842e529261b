// conformance_support.hpp — for the conformance tests only
// (spf_conformance_test.cpp, dmarc_conformance_test.cpp): where the public
// suites of ../shared/conformance are, and their YAML read as JSON by
// Debian's python3-yaml. Users clone the project without ../shared, so an
// empty path means "skip, saying so".
#pragma once
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::filters::conformance {

// ../shared/conformance/<relative> beside the source tree (or under
// /work/shared), if that file exists; "" otherwise.
inline std::string suite_file(const std::string& relative) {
  std::vector<std::string> roots;
#ifdef SLUICE_SOURCE_DIR
  roots.push_back(std::string(SLUICE_SOURCE_DIR) + "/../shared/conformance/");
#endif
  roots.push_back("/work/shared/conformance/");
  for (const auto& root : roots)
    if (std::filesystem::is_regular_file(root + relative)) return root + relative;
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

}  // namespace sluice::filters::conformance
