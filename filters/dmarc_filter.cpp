#include "filters/dmarc_filter.hpp"

#include <random>

#include "filters/dmarc_check.hpp"

namespace sluice::filters {

namespace {

// A number in 0..99 for the record's pct= (not security-relevant). One engine
// per thread, seeded once: std::random_device's set-up costs a CPUID, which a
// virtual machine traps, and a filter chain is built for every connection
// (it was 13% of a worker's time in the TLS handshake benchmark).
unsigned pct_draw() {
  thread_local std::minstd_rand engine{std::random_device{}()};
  return static_cast<unsigned>(engine() % 100);
}

}  // namespace

boost::asio::awaitable<void> DmarcFilter::on_end_of_data(FilterResults& results) {
  if (!active_) co_return;
  DmarcRequest request;
  request.from = results.from;
  if (results.spf) {
    request.spf = results.spf->verdict;
    request.spf_domain = results.spf->domain;
  }
  for (const auto& d : results.dkim) request.dkim.push_back({d.domain, d.passed()});
  request.sample = pct_draw();
  DmarcResult r = co_await check_dmarc(resolver_, *psl_, request);
  results.dmarc = std::move(r);
}

void DmarcFilter::fail(FilterResults& results, std::string_view why) {
  if (!active_) return;
  DmarcResult r;
  r.status = DmarcStatus::temperror;
  r.from_domain = results.from.domain;
  r.problem = std::string(why);
  r.status_text = "DMARC not evaluated: " + r.problem;
  results.dmarc = std::move(r);
}

std::vector<std::string> DmarcFilter::result_vocabulary() {
  // Not "off": a DMARC switched off for the transaction is skipped, not counted.
  std::vector<std::string> words;
  for (DmarcStatus s : {DmarcStatus::accept, DmarcStatus::reject, DmarcStatus::quarantine, DmarcStatus::none,
                        DmarcStatus::norecord, DmarcStatus::nofrom, DmarcStatus::temperror})
    words.emplace_back(to_string(s));
  return words;
}

std::vector<std::string> DmarcFilter::result_words(const FilterResults& results) const {
  if (!results.dmarc) return {};
  return {std::string(to_string(results.dmarc->status))};
}

}  // namespace sluice::filters
