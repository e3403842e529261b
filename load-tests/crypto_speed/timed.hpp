// timed.hpp — the one timing loop of the crypto speed programs (no library
// headers here: each program includes its own library's alone).
#pragma once
#include <time.h>

#include <cstdio>

namespace crypto_speed {

// The calling thread's CPU time in microseconds: on a shared machine, what
// another process takes does not count, as it would in wall-clock time.
inline double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

// Runs `f` n times and prints CPU microseconds per call, or FAILED when a
// call returns false (a failed operation must not pass for a fast one).
template <class F>
void timed(const char* library, const char* what, int n, F&& f) {
  const double t0 = thread_cpu_us();
  for (int i = 0; i < n; ++i)
    if (!f()) {
      std::printf("%s %-28s FAILED\n", library, what);
      return;
    }
  std::printf("%s %-28s %8.1f us CPU\n", library, what, (thread_cpu_us() - t0) / n);
}

}  // namespace crypto_speed
