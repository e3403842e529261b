#include "tls/file_signature.hpp"

#include <sys/stat.h>

namespace sluice::tls {

namespace {

void append_field(std::string& sig, unsigned long long value) {
  sig += ':';
  sig += std::to_string(value);
}

void append_time(std::string& sig, const struct timespec& t) {
  append_field(sig, static_cast<unsigned long long>(t.tv_sec));
  sig += '.';
  sig += std::to_string(t.tv_nsec);
}

}  // namespace

std::string file_signature(const std::vector<std::string>& paths) {
  // Never "": callers keep "" for "nothing seen yet", and a directory
  // emptied of its files is a state of its own.
  if (paths.empty()) return "(no files)";
  std::string sig;
  for (const std::string& path : paths) {
    sig += path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      sig += ":missing;";
      continue;
    }
    append_field(sig, st.st_dev);
    append_field(sig, st.st_ino);
    append_field(sig, static_cast<unsigned long long>(st.st_size));
    append_time(sig, st.st_mtim);
    append_time(sig, st.st_ctim);
    sig += ';';
  }
  return sig;
}

}  // namespace sluice::tls
