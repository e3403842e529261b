// file_signature.hpp — what stat() says of the files a TLS setting names,
// as one comparable string: the registry's file check (context_registry.hpp)
// rebuilds or re-reads only when it differs from the last one seen.
//
// Why inode and ctime beside mtime and size: a file replaced by rename (as
// certbot, cert-manager and Kubernetes' atomic Secret updates do) gets a new
// inode, and `cp -p` or `mv` of a file of the same size can keep the old
// mtime; the ctime cannot be set back by user space. stat() follows symbolic
// links, so a Secret's `name -> ..data/name` links show their target's change.
#pragma once
#include <string>
#include <vector>

namespace sluice::tls {

// "missing" in place of the fields of a file stat() cannot see; "(no files)"
// for an empty list (a key directory with no key files left), never "".
std::string file_signature(const std::vector<std::string>& paths);

}  // namespace sluice::tls
