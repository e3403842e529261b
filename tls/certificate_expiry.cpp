#include "tls/certificate_expiry.hpp"

#include "gateway/log.hpp"

namespace sluice::tls {

std::string ExpiryWarning::text() const {
  if (days == 0) return expired ? "expired less than a day ago" : "expires within a day";
  const std::string n = std::to_string(days) + (days == 1 ? " day" : " days");
  return expired ? "expired " + n + " ago" : "expires in " + n;
}

std::vector<ExpiryWarning> expiry_warnings(
    const ListenerCertificateDates& certificates, std::time_t now,
    std::chrono::seconds window) {
  std::vector<ExpiryWarning> out;
  for (const auto& [listener, dates] : certificates) {
    if (dates.not_after == 0) continue;  // unreadable: nothing to say
    const std::time_t left = dates.not_after - now;
    if (left > window.count()) continue;
    ExpiryWarning w{listener, dates.file, dates.not_after, left < 0, 0};
    w.days = static_cast<long>((left < 0 ? -left : left) / 86400);
    out.push_back(std::move(w));
  }
  return out;
}

void log_expiry_warning(const ExpiryWarning& w) {
  gateway::log_warn(w.expired ? "tls_certificate_expired" : "tls_certificate_expires_soon")
      .field("listener", w.listener)
      .field("file", w.file)
      .field("not_after", static_cast<std::int64_t>(w.not_after))
      .field("days", static_cast<std::int64_t>(w.days))
      .field("effect", "still served; renew it");
}

}  // namespace sluice::tls
