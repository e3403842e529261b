// export_directories.hpp — are the directories that mail is exported to
// usable? Checked at start, on reload and by `sluice check-config`.
//
// A queuefile route's `directory` and a policy's `quarantine` directory are
// only written when a message goes there. If one is missing or read-only,
// those recipients are deferred and retried (nothing is lost), but an
// operator would otherwise learn of a typo only from deferrals. These
// problems are warnings, not errors: the directory may be created after
// start (a volume mounted late, a scanner that makes its own), and the
// queue retries until it exists.
#pragma once
#include <string>
#include <vector>

#include "gateway/config.hpp"

namespace sluice::gateway {

struct ExportDirectoryProblem {
  std::string owner;      // "route" (its directory) or "policy" (its quarantine)
  std::string name;       // the route's or the policy's name
  std::string directory;
  std::string problem;    // "does not exist", "is not a directory", "is not writable: ..."
};

std::vector<ExportDirectoryProblem> check_export_directories(const Config& config);

// One warning log line per problem (event "export_directory_unusable").
void log_export_directory_problems(const Config& config);

}  // namespace sluice::gateway
