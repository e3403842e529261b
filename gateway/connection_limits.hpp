// connection_limits.hpp — the global connection cap and the per-client-IP
// cap, checked at accept time before the banner (then 421 4.7.0).
//
// A Ticket is held for the life of a connection and gives its place back when
// destroyed. The per-IP table is a small mutex-guarded map touched only at
// accept and close, never per command. Keyed by the socket peer: a PROXY or
// XCLIENT front end is one IP, so its trust list should allow it enough.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sluice::gateway {

class ConnectionLimits {
 public:
  enum class Verdict { ok, too_many_total, too_many_from_ip };

  class Ticket {
   public:
    Ticket() = default;
    Ticket(ConnectionLimits* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
    Ticket(Ticket&& o) noexcept : owner_(o.owner_), ip_(std::move(o.ip_)) { o.owner_ = nullptr; }
    Ticket& operator=(Ticket&& o) noexcept;
    ~Ticket() { release(); }

   private:
    void release();
    ConnectionLimits* owner_ = nullptr;
    std::string ip_;
  };

  // Takes a place if limits allow; `ticket` is filled only on ok.
  Verdict admit(const std::string& ip, std::uint64_t max_total, std::uint32_t max_per_ip, Ticket& ticket);
  std::uint64_t open() const { return total_.load(std::memory_order_relaxed); }

 private:
  void release(const std::string& ip);
  std::atomic<std::uint64_t> total_{0};
  std::mutex mu_;
  std::unordered_map<std::string, std::uint32_t> per_ip_;
};

}  // namespace sluice::gateway
