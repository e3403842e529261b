#include "metrics/process_collector.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::metrics {

namespace {

struct ProcessHandles {
  Counter& cpu;
  Gauge& rss;
  Gauge& vsize;
  Gauge& fds;
  Gauge& max_fds;
  Gauge& start;
};

// Fields of /proc/self/stat after the "(comm)" (which may contain spaces):
// field 14 utime, 15 stime, 22 starttime, 23 vsize, 24 rss (proc(5)).
struct Stat {
  double cpu_seconds = 0;
  double start_ticks = 0;
  double vsize = 0;
  double rss_pages = 0;
};

bool read_stat(Stat& s) {
  std::ifstream f("/proc/self/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  std::string field[22];  // fields 3..24
  for (auto& x : field)
    if (!(rest >> x)) return false;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  s.cpu_seconds = (std::stod(field[11]) + std::stod(field[12])) / ticks;
  s.start_ticks = std::stod(field[19]);
  s.vsize = std::stod(field[20]);
  s.rss_pages = std::stod(field[21]);
  return true;
}

double boot_time_seconds() {
  std::ifstream f("/proc/stat");
  std::string key;
  double value = 0;
  while (f >> key) {
    if (key == "btime" && (f >> value)) return value;
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

double open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  double n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the descriptor opendir itself holds
}

void collect(ProcessHandles& h, double boot) {
  Stat s;
  if (read_stat(s)) {
    h.cpu.set(s.cpu_seconds);
    h.vsize.set(s.vsize);
    h.rss.set(s.rss_pages * static_cast<double>(::sysconf(_SC_PAGESIZE)));
    h.start.set(boot + s.start_ticks / static_cast<double>(::sysconf(_SC_CLK_TCK)));
  }
  if (const double n = open_fds(); n >= 0) h.fds.set(n);
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) h.max_fds.set(static_cast<double>(rl.rlim_cur));
}

}  // namespace

void register_process_collector(Registry& r) {
  ProcessHandles h{
      r.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.").with({}),
      r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.").with({}),
      r.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").with({}),
      r.gauge("process_open_fds", "Number of open file descriptors.").with({}),
      r.gauge("process_max_fds", "Maximum number of open file descriptors (soft limit).").with({}),
      r.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.").with({}),
  };
  const double boot = boot_time_seconds();
  r.add_collector([h, boot]() mutable { collect(h, boot); });
}

}  // namespace sluice::metrics
