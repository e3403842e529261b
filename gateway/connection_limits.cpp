#include "gateway/connection_limits.hpp"

namespace sluice::gateway {

ConnectionLimits::Ticket& ConnectionLimits::Ticket::operator=(Ticket&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    ip_ = std::move(o.ip_);
    o.owner_ = nullptr;
  }
  return *this;
}

void ConnectionLimits::Ticket::release() {
  if (owner_) owner_->release(ip_);
  owner_ = nullptr;
}

ConnectionLimits::Verdict ConnectionLimits::admit(const std::string& ip, std::uint64_t max_total,
                                                  std::uint32_t max_per_ip, Ticket& ticket) {
  if (total_.fetch_add(1, std::memory_order_relaxed) >= max_total) {
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Verdict::too_many_total;
  }
  {
    std::lock_guard lock(mu_);
    auto& n = per_ip_[ip];
    if (n >= max_per_ip) {
      if (n == 0) per_ip_.erase(ip);
      total_.fetch_sub(1, std::memory_order_relaxed);
      return Verdict::too_many_from_ip;
    }
    ++n;
  }
  ticket = Ticket(this, ip);
  return Verdict::ok;
}

void ConnectionLimits::release(const std::string& ip) {
  {
    std::lock_guard lock(mu_);
    auto it = per_ip_.find(ip);
    if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  }
  total_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace sluice::gateway
