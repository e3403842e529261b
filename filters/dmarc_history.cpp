#include "filters/dmarc_history.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::filters {

namespace {

// OpenDMARC's numbers (its opendmarc-reports reads them back): SPF and DKIM
// results 0 pass, 2 softfail, 3 neutral, 4 temperror, 5 permerror, 6 none,
// 7 fail, 8 policy (DKIM only: a refused rsa-sha1); alignment 4 pass, 5
// fail; the record's p, sp, adkim and aspf as the ASCII code of their first
// letter ('n' 'q' 'r', 'r' 's'), 0 when unknown; action 0 reject, 2 accept,
// 4 quarantine. Checked by importing a file with the real opendmarc-import
// into MariaDB (tests/integration).
int spf_code(const std::optional<SpfResult>& spf) {
  if (!spf) return 6;
  switch (spf->verdict) {
    case SpfVerdict::pass: return 0;
    case SpfVerdict::softfail: return 2;
    case SpfVerdict::neutral: return 3;
    case SpfVerdict::temperror: return 4;
    case SpfVerdict::permerror: return 5;
    case SpfVerdict::none: return 6;
    case SpfVerdict::fail: return 7;
  }
  return 6;
}

int dkim_code(DkimStatus s) {
  switch (s) {
    case DkimStatus::pass: return 0;
    case DkimStatus::neutral: return 3;
    case DkimStatus::temperror: return 4;
    case DkimStatus::permerror: return 5;
    case DkimStatus::fail: return 7;
    case DkimStatus::policy: return 8;  // OpenDMARC's ARES_RESULT_POLICY; its reports print "policy"
  }
  return 6;
}

int letter(const std::string& word) { return word.empty() ? 0 : static_cast<unsigned char>(word.front()); }

// The "policy" line is libopendmarc's policy to enforce (its DMARC_POLICY_*
// values, which OpenDMARC and Exim write there), not a letter: 14 no record,
// 15 passed, and for a message that failed, the policy it met, before pct:
// 16 reject, 17 quarantine, 18 none. A DNS failure is written as "no record".
int enforced_policy_code(const DmarcResult& d) {
  switch (d.status) {
    case DmarcStatus::accept: return 15;
    case DmarcStatus::norecord:
    case DmarcStatus::temperror: return 14;
    default: break;
  }
  if (d.domain_policy == "reject") return 16;
  if (d.domain_policy == "quarantine") return 17;
  return 18;
}

// Sluice does not evaluate ARC, but opendmarc-import's messages table has
// NOT NULL arc columns: a record without them is refused by the database.
// Written as Exim writes them then: result unknown (11), policy unused (1),
// and the empty seal list in the "json:" form opendmarc-import parses.
constexpr std::string_view kNoArc = "arc 11\narc_policy 1 json:[]\n";

std::string token(std::string_view s) {
  std::string o;
  for (char c : s) o += (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) ? '_' : c;
  return o.empty() ? "-" : o;
}

DmarcHistoryWriter* g_writer = nullptr;

}  // namespace

std::string dmarc_history_record(const FilterResults& r, const DmarcHistoryFacts& f) {
  if (!r.dmarc || r.dmarc->status == DmarcStatus::off || r.dmarc->status == DmarcStatus::nofrom) return {};
  const DmarcResult& d = *r.dmarc;
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out.append(key).append(" ").append(value).append("\n");
  };
  line("job", token(f.job));
  line("reporter", token(f.reporter));
  line("received", std::to_string(f.received));
  line("ipaddr", token(f.client_ip));
  line("from", token(d.from_domain));
  line("mfrom", token(f.mail_from_domain));
  line("spf", std::to_string(spf_code(r.spf)));
  line("pdomain", token(d.used_domain.empty() ? d.from_domain : d.used_domain));
  line("policy", std::to_string(enforced_policy_code(d)));
  if (d.record && !d.record->rua.empty())
    for (const auto& u : d.record->rua) line("rua", token(u));
  else
    line("rua", "-");
  line("pct", std::to_string(d.record ? d.record->pct : 100));
  line("adkim", std::to_string(d.record ? d.record->adkim : 0));
  line("aspf", std::to_string(d.record ? d.record->aspf : 0));
  line("p", std::to_string(d.record ? letter(d.record->p) : 0));
  line("sp", std::to_string(d.record ? letter(d.record->sp) : 0));
  line("align_dkim", d.dkim_aligned ? "4" : "5");
  line("align_spf", d.spf_aligned ? "4" : "5");
  line("action", f.action == DmarcHistoryFacts::Action::reject       ? "0"
                 : f.action == DmarcHistoryFacts::Action::quarantine ? "4"
                                                                     : "2");
  out += kNoArc;
  for (const auto& k : r.dkim)
    if (!k.domain.empty())
      out += "dkim " + token(k.domain) + " " + token(k.selector) + " " + std::to_string(dkim_code(k.status)) + "\n";
  return out;
}

DmarcHistoryWriter::DmarcHistoryWriter(std::string path) : path_(std::move(path)), thread_([this] { run(); }) {}

DmarcHistoryWriter::~DmarcHistoryWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DmarcHistoryWriter::append(std::string record) {
  if (record.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(record));
  }
  cv_.notify_one();
}

void DmarcHistoryWriter::flush() {
  std::unique_lock lock(mu_);
  drained_.wait(lock, [this] { return queue_.empty() && !writing_; });
}

void DmarcHistoryWriter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    std::string batch;
    while (!queue_.empty()) {
      batch += queue_.front();
      queue_.pop_front();
    }
    writing_ = true;
    lock.unlock();
    // Opened per batch: a rotated file (the import tools truncate or move
    // it) is picked up without a signal.
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    bool ok = fd >= 0;
    for (std::size_t done = 0; ok && done < batch.size();) {
      const ssize_t n = ::write(fd, batch.data() + done, batch.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<std::size_t>(n);
    }
    if (fd >= 0) ::close(fd);
    if (!ok) write_errors_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    writing_ = false;
    if (queue_.empty()) drained_.notify_all();
  }
}

DmarcHistoryWriter* dmarc_history() { return g_writer; }
void set_dmarc_history(DmarcHistoryWriter* writer) { g_writer = writer; }

}  // namespace sluice::filters
