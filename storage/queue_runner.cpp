#include "storage/queue_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <future>
#include <map>

#include "storage/lmdb_spool.hpp"

namespace sluice::storage {
namespace {

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string join_recipients(const QueueRecord& r, const std::vector<std::size_t>& idx) {
  std::string out;
  for (std::size_t i : idx) {
    if (!out.empty()) out += ',';
    out += r.envelope.recipients[i].address;
  }
  return out;
}

std::int64_t backoff(const RetryPolicy& p, std::uint32_t attempts) {
  std::int64_t delay = p.first.count();
  for (std::uint32_t i = 1; i < attempts && delay < p.max.count(); ++i) delay *= 2;
  return std::min<std::int64_t>(delay, p.max.count());
}

}  // namespace

QueueRunner::QueueRunner(LmdbSpool& spool, QueuefileExport exporter, std::function<void(const RunnerEvent&)> log)
    : spool_(spool), exporter_(std::move(exporter)), log_(std::move(log)),
      routes_(std::make_shared<const RouteTable>()) {}

QueueRunner::~QueueRunner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void QueueRunner::set_routes(std::shared_ptr<const RouteTable> routes) {
  std::lock_guard lock(mu_);
  routes_ = std::move(routes);
}

void QueueRunner::set_retry(const RetryPolicy& p) {
  std::lock_guard lock(mu_);
  retry_ = p;
}

void QueueRunner::start() {
  // Work left from before the restart: everything queued (new, or put back
  // from "delivering" by the spool's recovery).
  std::vector<std::string> ids;
  spool_.store().read([&](const QueueView& v) {
    v.for_each([&](std::string_view id, std::string_view json) {
      if (json.find("\"state\":\"queued\"") != std::string_view::npos) ids.emplace_back(id);
      return true;
    });
  });
  {
    std::lock_guard lock(mu_);
    for (auto& id : ids) inbox_.push_back(std::move(id));
  }
  thread_ = std::thread([this] { run(); });
}

void QueueRunner::notify(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(id);
  }
  cv_.notify_one();
}

void QueueRunner::run() {
  auto next_tick = std::chrono::steady_clock::now();
  auto next_sweep = next_tick;
  for (;;) {
    std::deque<std::string> work;
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, next_tick, [&] { return stopping_ || !inbox_.empty(); });
      if (stopping_) return;
      work.swap(inbox_);
    }
    for (const auto& id : work) {
      process(id);
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      retry_failed_commits();
      run_due();
      next_tick = now + std::chrono::seconds(1);
    }
    if (now >= next_sweep) {
      sweep();
      // A sweep a minute is plenty for the default keep_done of an hour, but
      // would keep a record of keep_done = "1s" for up to a minute.
      std::chrono::seconds keep_done;
      {
        std::lock_guard lock(mu_);
        keep_done = retry_.keep_done;
      }
      next_sweep = now + std::clamp(keep_done, std::chrono::seconds(1), std::chrono::seconds(60));
    }
  }
}

void QueueRunner::run_due() {
  std::vector<std::string> due;
  spool_.store().read([&](const QueueView& v) {
    v.for_each_due(now_seconds(), [&](std::string_view id) {
      due.emplace_back(id);
      return due.size() < 1000;
    });
  });
  for (const auto& id : due) process(id);
}

void QueueRunner::retry_failed_commits() {
  std::vector<Outcome> outcomes;
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, o] : unsaved_) outcomes.push_back(o);
    ids.assign(unmarked_.begin(), unmarked_.end());
  }
  for (const auto& o : outcomes) {
    if (save(o)) continue;
    std::lock_guard lock(mu_);
    unsaved_.erase(o.record.envelope.id);
  }
  for (const auto& id : ids) {
    if (handle(id) == Pass::commit_failed) continue;
    std::lock_guard lock(mu_);
    unmarked_.erase(id);
  }
}

void QueueRunner::sweep() {
  RetryPolicy p;
  {
    std::lock_guard lock(mu_);
    p = retry_;
  }
  const std::int64_t cutoff = now_seconds() - p.keep_done.count();
  std::vector<std::string> old;
  spool_.store().read([&](const QueueView& v) {
    v.for_each([&](std::string_view id, std::string_view json) {
      auto r = queue_record_from_json(json);
      if (r && (r->state == MessageState::done || r->state == MessageState::bounced) && r->updated_at <= cutoff)
        old.emplace_back(id);
      return old.size() < 10000;
    });
  });
  if (int dead = spool_.store().clear_stale_readers())
    log_({"stale_readers", "", "", "", "cleared " + std::to_string(dead) + " LMDB reader slot(s) of dead processes"});
  // Small transactions: a delete needs free pages too (copy-on-write), and
  // one transaction for thousands of records needs more than a nearly full
  // map has, so it would fail every time and free nothing. A batch that
  // fails is tried one record per transaction, as the group committer does.
  constexpr std::size_t kBatch = 100;
  for (std::size_t first = 0; first < old.size(); first += kBatch) {
    const std::vector<std::string> batch(old.begin() + first, old.begin() + std::min(old.size(), first + kBatch));
    std::error_code ec = purge(batch);
    if (ec && batch.size() > 1) {
      for (const auto& id : batch)
        if ((ec = purge(std::vector<std::string>{id}))) break;
    }
    if (ec) {
      log_({"error", "", "", "", "sweep failed: " + ec.message()});
      return;
    }
  }
}

// One transaction; the body files are removed once it committed.
std::error_code QueueRunner::purge(const std::vector<std::string>& ids) {
  std::vector<std::string> file_bodies;
  auto ec = update([&](QueueWriter& w) -> std::error_code {
    file_bodies.clear();
    for (const auto& id : ids) {
      auto r = w.record(id);
      if (r && r->body == BodyPlace::file) file_bodies.push_back(spool_.store().body_path(id));
      if (auto e = w.erase_body(id)) return e;
      if (auto e = w.erase_record(id)) return e;
    }
    return {};
  });
  if (ec) return ec;
  for (const auto& path : file_bodies) ::unlink(path.c_str());
  for (const auto& id : ids) log_({"purged", id, "", "", ""});
  return {};
}

std::error_code QueueRunner::update(const std::function<std::error_code(QueueWriter&)>& fn) {
  auto done = std::make_shared<std::promise<std::error_code>>();
  auto result = done->get_future();
  spool_.committer().submit([&fn](QueueWriter& w) { return fn(w); },
                            [done](std::error_code ec) { done->set_value(ec); });
  return result.get();
}

void QueueRunner::process(const std::string& id) { handle(id); }

QueueRunner::Pass QueueRunner::handle(const std::string& id) {
  std::optional<QueueRecord> rec;
  BodyRef body;
  spool_.store().read([&](const QueueView& v) {
    rec = v.record(id);
    if (!rec) return;
    if (rec->body == BodyPlace::file) {
      body.in_file = true;
      body.path = spool_.store().body_path(id);
    } else if (auto b = v.inline_body(id)) {
      body.bytes.assign(*b);
    }
  });
  if (!rec) return Pass::finished;
  const std::int64_t now = now_seconds();
  if (rec->state == MessageState::done || rec->state == MessageState::bounced ||
      rec->state == MessageState::delivering)
    return Pass::finished;
  if (rec->state == MessageState::deferred && rec->next_retry > now) return Pass::finished;
  if (rec->progress.size() != rec->envelope.recipients.size()) rec->start_progress();
  // Messages whose recipients all wait for relay come through here on every
  // restart: commit nothing when nothing changed.
  const std::string before = to_json(*rec);

  std::shared_ptr<const RouteTable> routes;
  RetryPolicy retry;
  {
    std::lock_guard lock(mu_);
    routes = routes_;
    retry = retry_;
  }
  std::map<const Route*, std::vector<std::size_t>> exports;
  std::vector<std::size_t> discarded, deferred;
  bool attempted = false;
  // A message the policy quarantined goes, whole, to its quarantine
  // directory as one queuefile pair, whatever the routes say.
  Route quarantine;
  quarantine.name = "quarantine";
  quarantine.action = RouteAction::queuefile;
  quarantine.directory = rec->envelope.quarantine_directory;
  for (std::size_t i = 0; i < rec->progress.size(); ++i) {
    auto& p = rec->progress[i];
    if (p.state != RecipientState::pending && p.state != RecipientState::deferred) continue;
    if (!quarantine.directory.empty()) {
      exports[&quarantine].push_back(i);
      continue;
    }
    RouteChoice c = choose_route(*routes, rec->envelope.recipients[i].address);
    if (c.defer) {
      p.state = RecipientState::deferred;
      p.route = c.route->name;
      p.last_error = "route condition could not be evaluated (lookup failed)";
      deferred.push_back(i);
      attempted = true;
    } else if (!c.route || c.route->action == RouteAction::relay) {
      // Waits for the delivery agent. Nothing is written: a default config
      // (no routes) must not cost a second commit per message.
      p.state = RecipientState::pending;
    } else if (c.route->action == RouteAction::discard) {
      p.state = RecipientState::delivered;
      p.route = c.route->name;
      discarded.push_back(i);
    } else {
      exports[c.route].push_back(i);
    }
  }

  if (!exports.empty()) {
    rec->state = MessageState::delivering;
    rec->updated_at = now;
    // A record deleted meanwhile (`sluice queue delete`) stays deleted.
    bool gone = false;
    if (auto ec = update([&](QueueWriter& w) -> std::error_code {
          if (!w.record_json(id)) {
            gone = true;
            return {};
          }
          return w.put(*rec);
        })) {
      // Nothing was exported: the next tick takes it through its routes again.
      bool first;
      {
        std::lock_guard lock(mu_);
        first = unmarked_.insert(id).second;
      }
      if (first) log_({"error", id, "", "", "cannot mark delivering: " + ec.message() + " (tried again every second)"});
      return Pass::commit_failed;
    }
    if (gone) return Pass::finished;
    for (auto& [route, idx] : exports) {
      attempted = true;
      std::error_code ec = exporter_ ? exporter_(*rec, idx, *route, body)
                                     : std::make_error_code(std::errc::function_not_supported);
      for (std::size_t i : idx) {
        auto& p = rec->progress[i];
        p.route = route->name;
        if (ec) {
          p.state = RecipientState::deferred;
          p.last_error = "queuefile " + route->directory + ": " + ec.message();
          deferred.push_back(i);
        } else {
          p.state = RecipientState::delivered;
          p.last_error.clear();
        }
      }
      log_({ec ? "deferred" : "delivered", id, route->name, join_recipients(*rec, idx),
            ec ? "queuefile " + route->directory + ": " + ec.message() : "queuefile " + route->directory});
    }
  }
  if (!discarded.empty()) log_({"discarded", id, "", join_recipients(*rec, discarded), ""});

  if (attempted) ++rec->attempts;
  std::vector<std::size_t> given_up;
  if (!deferred.empty()) {
    if (now - rec->envelope.received_at >= retry.give_up.count()) {
      for (std::size_t i : deferred) {
        rec->progress[i].state = RecipientState::failed;
        rec->progress[i].last_error += " (retry time exceeded)";
        given_up.push_back(i);
      }
    }
  }
  bool any_deferred = false, any_failed = false;
  for (const auto& p : rec->progress) {
    any_deferred = any_deferred || p.state == RecipientState::deferred;
    any_failed = any_failed || p.state == RecipientState::failed;
  }
  const bool final_state = rec->all_recipients_final();
  if (any_deferred) {
    rec->state = MessageState::deferred;
    rec->next_retry = now + backoff(retry, rec->attempts);
  } else if (final_state) {
    rec->state = any_failed ? MessageState::bounced : MessageState::done;
  } else {
    rec->state = MessageState::queued;  // only relay recipients left
  }
  if (to_json(*rec) == before) return Pass::finished;
  rec->updated_at = now;
  Outcome o{std::move(*rec), {}, std::move(given_up), now};
  if (o.record.state == MessageState::done && o.record.body == BodyPlace::file) o.body_file = body.path;
  const std::error_code ec = save(o);
  if (!ec) return Pass::finished;
  // Keep what was decided (and exported) and commit it at the next tick;
  // after an export the record says "delivering" meanwhile, so nothing else
  // takes the message through its routes again.
  bool first;
  {
    std::lock_guard lock(mu_);
    first = unsaved_.emplace(id, std::move(o)).second;
  }
  if (first) log_({"error", id, "", "", "cannot record the outcome: " + ec.message() + " (tried again every second)"});
  return Pass::commit_failed;
}

// Commits an outcome, then does what follows from it: removes a finished
// body's file, logs. A record deleted meanwhile stays deleted.
std::error_code QueueRunner::save(const Outcome& o) {
  const QueueRecord& rec = o.record;
  const std::string& id = rec.envelope.id;
  const bool drop_body = rec.state == MessageState::done;
  bool gone = false;
  auto ec = update([&](QueueWriter& w) -> std::error_code {
    if (!w.record_json(id)) {
      gone = true;
      return {};
    }
    if (drop_body && rec.body == BodyPlace::inline_value) {
      if (auto e = w.erase_body(id)) return e;
    }
    return w.put(rec);
  });
  if (ec || gone) return ec;
  if (!o.body_file.empty()) ::unlink(o.body_file.c_str());
  if (!o.given_up.empty()) log_({"bounced", id, "", join_recipients(rec, o.given_up), "retry time exceeded"});
  if (rec.state == MessageState::deferred)
    log_({"deferred", id, "", "", "next retry in " + std::to_string(rec.next_retry - o.now) + "s"});
  if (rec.state == MessageState::done) log_({"completed", id, "", "", ""});
  return {};
}

}  // namespace sluice::storage
