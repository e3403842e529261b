#include "storage/message_id.hpp"

#include <unistd.h>

#include <atomic>
#include <ctime>
#include <random>

namespace sluice::storage {
namespace {

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

unsigned long long instance_tag() {
  static const unsigned long long tag = [] {
    std::random_device rd;
    unsigned long long nonce = (static_cast<unsigned long long>(rd()) << 8) ^ rd();
    nonce &= (1ull << 40) - 1;
    return (nonce << 22) | (static_cast<unsigned long long>(::getpid()) & 0x3fffff);
  }();
  return tag;
}

std::atomic<unsigned long long> g_counter{0};

}  // namespace

void put_base62(std::string& out, unsigned long long v, int width) {
  char buf[16];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = kBase62[v % 62];
    v /= 62;
  }
  out.append(buf, width);
}

bool is_base62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

std::string make_message_id() {
  std::string id;
  id.reserve(23);
  put_base62(id, static_cast<unsigned long long>(std::time(nullptr)), 6);
  id += '-';
  put_base62(id, instance_tag(), 11);
  id += '-';
  put_base62(id, g_counter.fetch_add(1, std::memory_order_relaxed) % (62ull * 62 * 62 * 62), 4);
  return id;
}

bool is_valid_message_id(std::string_view id) {
  if (id.size() != 23 || id[6] != '-' || id[18] != '-') return false;
  for (std::size_t i = 0; i < id.size(); ++i)
    if (i != 6 && i != 18 && !is_base62(id[i])) return false;
  return true;
}

}  // namespace sluice::storage
