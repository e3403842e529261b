#include "gateway/gateway.hpp"

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "filters/dmarc_history.hpp"
#include "filters/filter_chain.hpp"
#include "filters/filter_metrics.hpp"
#include "gateway/config_loader.hpp"
#include "gateway/export_directories.hpp"
#include "gateway/listener.hpp"
#include "gateway/log.hpp"
#include "gateway/services.hpp"
#include "gateway/worker.hpp"
#include "gateway/health_checks.hpp"
#include "metrics/exposition.hpp"
#include "metrics/http_server.hpp"
#include "metrics/sluice_metrics.hpp"
#include "metrics/tls_counters.hpp"
#include "storage/blocking_pool.hpp"
#include "gateway/routes.hpp"
#include "gateway/spool_metrics.hpp"
#include "gateway/tls_metrics.hpp"
#include "storage/lmdb_spool.hpp"
#include "storage/queue_runner.hpp"
#include "storage/queuefile.hpp"
#include "tls/context_registry.hpp"

namespace sluice::gateway {

namespace asio = boost::asio;

namespace {

// Sessions need one descriptor each: take all the kernel lets us have.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t before = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  log_info("fd_limit").field("before", static_cast<std::uint64_t>(before))
      .field("ceiling", static_cast<std::uint64_t>(rl.rlim_cur));
}

void log_runner_event(const storage::RunnerEvent& e) {
  auto line = e.event == "error" ? log_error("queue_error") : log_info(e.event == "purged" ? "queue_purged" : e.event);
  line.field("id", e.id).field("route", e.route).field("rcpts", e.recipients).field("detail", e.detail);
}

// Before the first export into a directory: the temporary files of
// exports a crash cut short (storage/queuefile.hpp). False when the
// directory cannot be read (yet: a volume mounted late); the export then
// fails and is retried, and this with it.
bool remove_interrupted_exports(const std::string& directory, std::filesystem::file_time_type started) {
  std::error_code ec;
  for (const auto& name : storage::remove_interrupted_exports(directory, started, ec))
    log_info("queuefile_temp_removed").field("directory", directory).field("file", name)
        .field("reason", "left by an export a crash or kill cut short");
  return !ec;
}

// The runner's queuefile step: one Exim -H/-D pair per route with that
// route's recipients (storage/queuefile.hpp). Runs on the runner thread, and
// only there: so no export of ours is in progress while a directory is
// cleared, and `cleared` needs no lock.
storage::QueuefileExport queuefile_exporter() {
  auto cleared = std::make_shared<std::set<std::string>>();
  const auto started = std::filesystem::file_time_type::clock::now();  // made at start-up
  return [cleared, started](const storage::QueueRecord& rec, const std::vector<std::size_t>& idx,
                   const storage::Route& route, const storage::BodyRef& body) -> std::error_code {
    if (!cleared->contains(route.directory) && remove_interrupted_exports(route.directory, started))
      cleared->insert(route.directory);
    storage::QueuefileOptions o;
    o.directory = route.directory;
    o.id_format = storage::parse_exim_id_format(route.exim_id_format).value_or(storage::EximIdFormat::v4_97);
    std::vector<storage::EnvelopeRecipient> rcpts;
    for (std::size_t i : idx) rcpts.push_back(rec.envelope.recipients[i]);
    const storage::MessageSource source = storage::with_added_headers(
        rec.envelope.added_headers,
        body.in_file ? storage::file_source(body.path, 0, rec.envelope.size) : storage::string_source(body.bytes));
    const storage::QueuefileResult r = storage::write_queuefile(o, rec.envelope, rcpts, source);
    if (!r.error)
      log_info("queuefile_written").field("id", rec.envelope.id).field("exim_id", r.exim_id)
          .field("route", route.name).field("directory", route.directory);
    return r.error;
  };
}

class Process {
 public:
  Process(ConfigPtr config, std::string path) : path_(std::move(path)) {
    services_.config.store(config);
    // Certificates first: a missing or broken one is a start-up error that names the file.
    std::string tls_error;
    if (!tls_.apply(*config, tls_error)) throw std::runtime_error("tls: " + tls_error);
    tls_.log_expiry(std::time(nullptr));
    services_.tls = &tls_;
    unsigned n = config->workers ? config->workers : std::max(1u, std::thread::hardware_concurrency());
    pool_ = std::make_unique<storage::BlockingPool>(config->spool.io_threads);
    open_filters(*config);
    for (unsigned i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(i, config->dns));
    log_info("dns").field("servers", workers_.front()->dns_servers())
        .field("timeout_ms", static_cast<std::uint64_t>(config->dns.timeout.count()))
        .field("tries", static_cast<std::uint64_t>(config->dns.tries))
        .field("cache_entries", static_cast<std::uint64_t>(config->dns.cache_entries));
    // Listeners before the spool: a second instance started on the same
    // config must fail on its ports before its spool recovery empties the
    // tmp/ that the running instance is writing to. Nothing is accepted
    // before run().
    for (const auto& l : config->listeners) open_listener(l);
    open_metrics(config->metrics);
    open_spool(*config);
  }

  // The Public Suffix List is read here, on the main thread, not by the
  // first session that needs it; without it DMARC stays off (logged).
  void open_filters(const Config& c) {
    if (!c.filters.enabled) return;
    filters::make_filter_metric_series(c.filters);
    std::string psl_error;
    if (!filters::shared_public_suffix_list(&psl_error))
      log_error("dmarc_unavailable").field("error", psl_error).field("effect", "DMARC is not evaluated");
    if (!c.filters.dmarc_history_file.empty()) {
      dmarc_history_ = std::make_unique<filters::DmarcHistoryWriter>(c.filters.dmarc_history_file);
      filters::set_dmarc_history(dmarc_history_.get());
      log_info("dmarc_history").field("file", c.filters.dmarc_history_file);
    }
  }

  int run() {
    for (auto& w : workers_) w->start();
    if (runner_) runner_->start();
    for (auto& [key, ls] : listeners_)
      for (auto& l : ls) l->start();
    health_.set_listening(true);
    if (http_) http_->start();
    auto cfg = services_.config.load();
    // Before "started": whoever waits for that line sees these too.
    log_export_directory_problems(*cfg);
    log_info("started").field("config", cfg->source).field("workers", static_cast<std::uint64_t>(workers_.size()))
        .field("spool", std::string(services_.spool->kind())).field("listeners", static_cast<std::uint64_t>(listeners_.size()));

    wait_for_signal();
    schedule_tls_check();
    main_.run();
    for (auto& w : workers_) w->stop_and_join();
    if (http_) http_->stop();
    if (auto* lmdb = dynamic_cast<storage::LmdbSpool*>(spool_.get())) {
      const auto& st = lmdb->committer().stats();
      const auto txns = st.transactions.load(), reqs = st.requests.load();
      log_info("spool_stats").field("transactions", txns).field("requests", reqs)
          .field("per_commit", txns ? std::to_string(static_cast<double>(reqs) / txns) : std::string("0"))
          .field("commit_ms_avg", txns ? std::to_string(st.commit_micros.load() / 1000.0 / txns) : std::string("0"))
          .field("failures", st.failures.load());
    }
    if (tls_.any()) log_tls_stats();
    const auto totals = metrics::sluice_metrics().message_totals();
    log_info("stopped").field("accepted", totals.accepted).field("rejected", totals.rejected)
        .field("deferred", totals.deferred);
    return 0;
  }

 private:
  // Bound at start, like the SMTP listeners: a port in use is a start-up
  // error naming the address. Served on its own thread (metrics/http_server.hpp).
  void open_metrics(const MetricsConfig& m) {
    if (!m.enabled) {
      log_info("metrics_disabled");
      return;
    }
    metrics::HttpEndpoints endpoints{
        [] { return metrics::render_text(metrics::sluice_metrics().registry.collect()); },
        [this] { return health_.alive(); },
        [this] { return health_.ready(); },
    };
    http_ = std::make_unique<metrics::HttpServer>(m.address, m.port, std::move(endpoints));
    log_info("metrics_listening").field("address", m.address).field("port", unsigned{http_->port()});
  }

  void open_spool(const Config& cfg) {
    if (cfg.spool.kind == SpoolKind::discard) {
      spool_ = storage::make_discard_spool();
      log_warn("discard_spool").field("warning", "spool kind is discard: accepted mail is THROWN AWAY (benchmarks only)");
    } else {
      storage::LmdbSpoolOptions o;
      o.directory = cfg.spool.directory;
      o.map_size = cfg.spool.map_size;
      o.inline_max = cfg.spool.inline_max;
      storage::SpoolRecovery r;
      auto lmdb = std::make_unique<storage::LmdbSpool>(o, *pool_, &r);
      log_info("spool_recovered").field("directory", cfg.spool.directory).field("queued", r.queued)
          .field("removed_orphan_bodies", r.removed_orphan_bodies).field("requeued", r.requeued_delivering)
          .field("unreadable", static_cast<std::uint64_t>(r.unreadable_records.size()));
      if (r.missing_bodies)
        log_error("spool_missing_bodies").field("count", r.missing_bodies)
            .field("problem", "records name body files that are gone (files removed by hand?)");
      for (const auto& id : r.unreadable_records)
        log_error("spool_unreadable_record").field("id", id)
            .field("effect", "kept, with its body file if any; not routed");
      if (!lmdb->store().map_size_recorded())
        log_warn("spool_map_size_unrecorded").field("directory", cfg.spool.directory)
            .field("problem", "the map is full to its last page: `sluice queue` cannot learn its size and may write past it");
      runner_ = std::make_unique<storage::QueueRunner>(*lmdb, queuefile_exporter(), log_runner_event);
      runner_->set_routes(build_route_table(cfg));
      runner_->set_retry(retry_policy(cfg));
      lmdb->set_on_committed([runner = runner_.get()](const std::string& id) { runner->notify(id); });
      attach_spool_metrics(*lmdb, alive_);
      spool_ = std::move(lmdb);
    }
    services_.spool = spool_.get();
  }

  // True when one of our listeners already holds this port (a listener
  // renamed by a reload, or two addresses on one port): our own sockets are
  // no reason to refuse it, and the probe would see them.
  static bool port_held(const std::map<std::string, std::vector<std::unique_ptr<Listener>>>& held,
                        const ListenerConfig& l) {
    for (const auto& [key, ls] : held)
      if (!ls.empty() && ls.front()->config().port == l.port) return true;
    return false;
  }

  void open_listener(const ListenerConfig& l) {
    if (!port_held(listeners_, l)) ensure_port_free(l);
    std::vector<std::unique_ptr<Listener>> ls;
    for (auto& w : workers_) ls.push_back(std::make_unique<Listener>(*w, services_, l));
    log_info("listening").field("listener", l.name).field("address", l.address).field("port", unsigned{l.port})
        .field("proxy_protocol", l.proxy_protocol);
    listeners_[listener_key(l)] = std::move(ls);
  }

  void reload() {
    if (path_.empty()) {
      log_warn("reload_ignored").field("reason", "running on the embedded default config");
      return;
    }
    ConfigLoad load = load_config_file(path_);
    if (!load.config) {
      for (const auto& p : load.problems) log_error("reload_refused").field("problem", p.to_string());
      return;
    }
    // Listeners: open the new ones first, so a bind failure refuses the reload.
    std::map<std::string, std::vector<std::unique_ptr<Listener>>> added;
    try {
      for (const auto& l : load.config->listeners) {
        const auto key = listener_key(l);
        if (listeners_.count(key) || added.count(key)) continue;
        if (!port_held(listeners_, l) && !port_held(added, l)) ensure_port_free(l);
        std::vector<std::unique_ptr<Listener>> ls;
        for (auto& w : workers_) ls.push_back(std::make_unique<Listener>(*w, services_, l));
        added[key] = std::move(ls);
      }
    } catch (const std::exception& e) {
      log_error("reload_refused").field("problem", e.what());
      return;
    }
    // Certificates, keys, OCSP files and ticket keys of the new config: all
    // usable, or the reload is refused and the ones in use stay.
    std::string tls_error;
    if (!tls_.apply(*load.config, tls_error)) {
      log_error("reload_refused").field("problem", "tls: " + tls_error);
      return;
    }
    set_log_options(load.config->log.format, load.config->log.level);
    tls_.log_expiry(std::time(nullptr));  // in the new config's log format
    warn_metrics_change(services_.config.load()->metrics, load.config->metrics);
    services_.config.store(load.config);
    filters::make_filter_metric_series(load.config->filters);  // a filter turned on by the reload
    if (runner_) {
      runner_->set_routes(build_route_table(*load.config));
      runner_->set_retry(retry_policy(*load.config));
    }
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      bool keep = false;
      for (const auto& l : load.config->listeners) keep |= listener_key(l) == it->first;
      if (keep) {
        ++it;
        continue;
      }
      log_info("listener_closed").field("listener", it->first);
      for (auto& l : it->second) l->close();
      retired_.push_back(std::move(it->second));  // closing happens on the workers
      it = listeners_.erase(it);
    }
    for (auto& [key, ls] : added) {
      for (auto& l : ls) l->start();
      log_info("listening").field("listener", key);
      listeners_[key] = std::move(ls);
    }
    log_info("reloaded").field("config", path_);
    log_export_directory_problems(*load.config);
  }

  // The metrics endpoint stays where it started: moving it would make a
  // scrape target vanish on a config typo. Say so instead of ignoring it.
  static void warn_metrics_change(const MetricsConfig& running, const MetricsConfig& wanted) {
    if (running.enabled == wanted.enabled && running.address == wanted.address && running.port == wanted.port) return;
    log_warn("metrics_change_needs_restart").field("address", running.address).field("port", unsigned{running.port})
        .field("enabled", running.enabled);
  }

  // Until the metrics endpoint exports them: the TLS counters at stop.
  static void log_tls_stats() {
    auto& t = metrics::tls_counters();
    log_info("tls_stats")
        .field("full_tls12", t.handshakes_full[metrics::kTls12].load())
        .field("full_tls13", t.handshakes_full[metrics::kTls13].load())
        .field("resumed_tls12", t.handshakes_resumed[metrics::kTls12].load())
        .field("resumed_tls13", t.handshakes_resumed[metrics::kTls13].load())
        .field("failures", t.handshake_failures.load())
        .field("timeouts", t.handshake_timeouts.load())
        .field("refused_busy", t.handshakes_refused_busy.load())
        .field("tickets_issued", t.tickets_issued.load())
        .field("tickets_refused", t.tickets_refused.load())
        .field("ocsp_lookups", t.ocsp_lookups.load())
        .field("plaintext_discarded", t.starttls_plaintext_discarded.load());
  }

  // SIGHUP reloads and waits again; SIGTERM or SIGINT drains. A signal that
  // came while the process was starting was queued by signals_ and is
  // handled here, once everything is up.
  void wait_for_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
        wait_for_signal();
      } else {
        begin_drain();
      }
    });
  }

  // Certificate, key, OCSP and ticket-key files are polled (stat) here on the
  // main thread, never on a worker.
  void schedule_tls_check() {
    tls_timer_.expires_after(services_.config.load()->tls.reload_check_interval);
    tls_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      tls_.check_files();
      schedule_tls_check();
    });
  }

  void begin_drain() {
    if (draining_) return;
    draining_ = true;
    health_.set_draining();  // /readyz says 503 before the listeners close
    auto cfg = services_.config.load();
    log_info("draining").field("timeout_seconds", static_cast<std::int64_t>(cfg->timeouts.drain.count()))
        .field("open", services_.limits.open());
    for (auto& [key, ls] : listeners_)
      for (auto& l : ls) l->close();
    for (auto& w : workers_) w->begin_drain();
    drain_deadline_ = std::chrono::steady_clock::now() + cfg->timeouts.drain;
    poll_drain();
  }

  void poll_drain() {
    std::size_t live = 0;
    for (auto& w : workers_) live += w->live_connections();
    if (live == 0) {
      main_.stop();
      return;
    }
    if (!deadline_sent_ && std::chrono::steady_clock::now() >= drain_deadline_) {
      deadline_sent_ = true;
      log_info("drain_deadline").field("open", static_cast<std::uint64_t>(live));
      for (auto& w : workers_) w->drain_deadline();
    }
    timer_.expires_after(std::chrono::milliseconds(50));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) poll_drain();
    });
  }

  std::string path_;
  asio::io_context main_{1};
  // Registered first, so that a SIGHUP (a config map updated just as a pod
  // starts) or a SIGTERM during start-up is queued instead of taking the
  // signal's default action, which would end the process.
  asio::signal_set signals_{main_, SIGTERM, SIGINT, SIGHUP};
  asio::steady_timer timer_{main_};
  asio::steady_timer tls_timer_{main_};
  tls::ContextRegistry tls_;  // before services_ and the workers: sessions use its contexts
  TlsCertificateMetrics tls_metrics_{tls_};  // the certificates' dates at each scrape
  Services services_;
  // Destruction runs bottom-up: listeners, then workers (their sessions may
  // still hold spool writers), then the spool and its I/O pool.
  std::unique_ptr<storage::BlockingPool> pool_;
  std::unique_ptr<filters::DmarcHistoryWriter> dmarc_history_;  // outlives the workers' sessions
  std::unique_ptr<storage::Spool> spool_;
  std::unique_ptr<storage::QueueRunner> runner_;  // before the spool goes
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // scrape-time collectors check it
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<std::string, std::vector<std::unique_ptr<Listener>>> listeners_;
  std::vector<std::vector<std::unique_ptr<Listener>>> retired_;
  HealthChecks health_{workers_, services_};
  std::unique_ptr<metrics::HttpServer> http_;  // first to go: its checks read the members above
  bool draining_ = false;
  bool deadline_sent_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
};

}  // namespace

int run_gateway(ConfigPtr config, const std::string& config_path) {
  set_log_options(config->log.format, config->log.level);
  raise_fd_limit();
  Process p(std::move(config), config_path);
  return p.run();
}

}  // namespace sluice::gateway
