// timed.hpp — the one timing loop of the crypto speed programs (no library
// headers here: each program includes its own library's alone).
#pragma once
#include <chrono>
#include <cstdio>

namespace crypto_speed {

// Runs `f` n times and prints microseconds per call, or FAILED when a call
// returns false (a failed operation must not pass for a fast one).
template <class F>
void timed(const char* library, const char* what, int n, F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    if (!f()) {
      std::printf("%s %-28s FAILED\n", library, what);
      return;
    }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
  std::printf("%s %-28s %8.1f us\n", library, what, us);
}

}  // namespace crypto_speed
