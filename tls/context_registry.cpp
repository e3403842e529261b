#include "tls/context_registry.hpp"

#include "gateway/log.hpp"
#include "metrics/tls_counters.hpp"
#include "tls/certificate_expiry.hpp"

namespace sluice::tls {

using metrics::TlsCounters;

namespace {
const std::vector<gateway::TlsCertificateConfig>& certificates_for(const gateway::Config& c,
                                                                   const gateway::ListenerConfig& l) {
  return l.tls_certificates.empty() ? c.tls.certificates : l.tls_certificates;
}
}  // namespace

std::shared_ptr<TicketKeys> ContextRegistry::keys_for(const gateway::TlsConfig& tls, std::string& error) {
  if (!tls.session_tickets) return nullptr;
  if (keys_) {
    const auto& o = keys_->options();
    if (o.rotation == tls.ticket_key_rotation && o.lifetime == tls.ticket_lifetime && o.file == tls.ticket_key_file) {
      keys_->forget_refusal();  // a SIGHUP tries refused key files again, at the next check
      return keys_;
    }
  }
  auto keys = std::make_shared<TicketKeys>(
      TicketKeys::Options{tls.ticket_key_rotation, tls.ticket_lifetime, tls.ticket_key_file});
  if (keys->file_mode() && !keys->reload(error)) {
    error = "tls.ticket_key_file: " + error;
    return nullptr;
  }
  return keys;
}

bool ContextRegistry::apply(const gateway::Config& config, std::string& error) {
  bool any = false;
  for (const auto& l : config.listeners) any |= l.tls != gateway::TlsMode::off;
  std::shared_ptr<TicketKeys> keys;
  if (any) {
    keys = keys_for(config.tls, error);
    if (!error.empty()) return false;
  }
  auto map = std::make_shared<Map>();
  for (const auto& l : config.listeners) {
    if (l.tls == gateway::TlsMode::off) continue;
    auto ctx = ServerContext::build(l.name, certificates_for(config, l), config.tls, keys, error);
    if (!ctx) return false;
    (*map)[l.name] = std::move(ctx);
  }
  keys_ = std::move(keys);
  config_ = std::make_shared<const gateway::Config>(config);
  refused_.clear();
  expiry_logged_.clear();  // the next log_expiry() names every certificate due again
  contexts_.store(std::move(map));
  return true;
}

std::shared_ptr<ServerContext> ContextRegistry::get(const std::string& listener) const {
  auto map = contexts_.load();
  auto it = map->find(listener);
  return it == map->end() ? nullptr : it->second;
}

ListenerCertificateDates ContextRegistry::certificate_dates() const {
  ListenerCertificateDates out;
  for (const auto& [name, ctx] : *contexts_.load())
    for (auto& dates : ctx->certificate_dates()) out.emplace_back(name, std::move(dates));
  return out;
}

void ContextRegistry::log_expiry(std::time_t now) {
  for (const ExpiryWarning& w : expiry_warnings(certificate_dates(), now)) {
    // Whole days, negative once expired: one line when a certificate enters
    // the window, then one a day, whatever the check interval.
    const long stamp = w.expired ? -1 - w.days : w.days;
    auto [it, fresh] = expiry_logged_.try_emplace(w.listener + '\n' + w.file, stamp);
    if (!fresh && it->second == stamp) continue;
    it->second = stamp;
    log_expiry_warning(w);
  }
}

void ContextRegistry::check_files() {
  if (!config_) return;
  auto& counters = metrics::tls_counters();
  if (keys_ && keys_->file_mode() && keys_->file_changed()) {
    std::string error;
    if (keys_->reload(error)) {
      TlsCounters::add(counters.ticket_key_reloads.ok);
      gateway::log_info("tls_ticket_keys_reloaded").field("file", keys_->options().file)
          .field("keys", static_cast<std::uint64_t>(keys_->key_count()));
    } else {
      TlsCounters::add(counters.ticket_key_reloads.refused);
      gateway::log_error("tls_ticket_keys_refused").field("file", keys_->options().file).field("error", error)
          .field("effect", "keys in use kept");
    }
  }
  auto current = contexts_.load();
  std::shared_ptr<Map> next;
  std::vector<std::string> reloaded;
  for (const auto& [name, ctx] : *current) {
    ctx->refresh_ocsp();
    const std::string now = ctx->files_signature();
    if (now == ctx->built_signature()) {
      refused_.erase(name);  // back to the files in use
      continue;
    }
    // Files a rebuild refused are not tried again, nor logged again, until
    // they change once more: the same bytes would be refused the same way.
    if (auto r = refused_.find(name); r != refused_.end() && r->second == now) continue;
    const gateway::ListenerConfig* lc = nullptr;
    for (const auto& l : config_->listeners)
      if (l.name == name) lc = &l;
    if (!lc) continue;
    std::string error;
    auto rebuilt = ServerContext::build(name, certificates_for(*config_, *lc), config_->tls, keys_, error);
    if (!rebuilt) {
      // Files are often replaced in two steps (certificate, then key): a
      // mismatch now may be fine at the next check, which tries again.
      refused_[name] = now;
      TlsCounters::add(counters.certificate_reloads.refused);
      gateway::log_error("tls_reload_refused").field("listener", name).field("error", error)
          .field("effect", "certificates in use kept");
      continue;
    }
    refused_.erase(name);
    TlsCounters::add(counters.certificate_reloads.ok);
    reloaded.push_back(name);
    if (!next) next = std::make_shared<Map>(*current);
    (*next)[name] = std::move(rebuilt);
  }
  if (next) contexts_.store(std::move(next));
  // Logged once in use: whoever reads the line then gets the new certificates.
  for (const std::string& name : reloaded)
    gateway::log_info("tls_reloaded").field("listener", name).field("reason", "files changed");
  log_expiry(std::time(nullptr));
}

}  // namespace sluice::tls
