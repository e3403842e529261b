#include "filters/filter_chain.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>

#include "filters/authentication_results.hpp"
#include "filters/dkim_filter.hpp"
#include "filters/dmarc_filter.hpp"
#include "filters/public_suffix.hpp"
#include "filters/spf_filter.hpp"
#include "gateway/log.hpp"
#include "metrics/sluice_metrics.hpp"

namespace sluice::filters {

namespace asio = boost::asio;

FilterChain::FilterChain(Resolver& resolver, std::shared_ptr<const PublicSuffixList> psl,
                         const gateway::FiltersConfig& config, std::string our_name)
    : config_(config), authserv_id_(config.authserv_id.empty() ? std::move(our_name) : config.authserv_id) {
  // Chain order is result order: DMARC reads what SPF and DKIM left.
  if (config.spf.enabled) filters_.push_back({std::make_unique<SpfFilter>(resolver), &config.spf});
  if (config.dkim.enabled) filters_.push_back({std::make_unique<DkimFilter>(resolver), &config.dkim});
  if (config.dmarc.enabled && psl)
    filters_.push_back({std::make_unique<DmarcFilter>(resolver, std::move(psl)), &config.dmarc});
}

FilterChain::~FilterChain() { reset(); }

void FilterChain::start(const MailFacts& facts, const asio::any_io_executor& executor, bool judged) {
  reset();
  judged_ = judged;
  scanner_.emplace(authserv_id_);
  if (!judged_) return;
  for (auto& e : filters_) e.filter->on_mail(facts, executor);
}

void FilterChain::add(std::unique_ptr<Filter> filter, const gateway::FilterSettings* settings) {
  filters_.push_back({std::move(filter), settings});
}

void FilterChain::connect(const ConnectFacts& facts) {
  for (auto& e : filters_) e.filter->on_connect(facts);
}

void FilterChain::helo(std::string_view name) {
  for (auto& e : filters_) e.filter->on_helo(name);
}

void FilterChain::rcpt(std::string_view recipient) {
  if (!judged_) return;
  for (auto& e : filters_) e.filter->on_rcpt(recipient);
}

void FilterChain::data(std::string_view in, std::string& to_store) {
  if (judged_)
    for (auto& e : filters_) e.filter->on_data(in);
  if (scanner_) scanner_->feed(in, to_store);
  else to_store.append(in);
  if (judged_ && scanner_ && !header_block_seen_ && scanner_->header_block_ended()) {
    header_block_seen_ = true;
    for (auto& e : filters_) e.filter->on_header_block(scanner_->header_copy());
  }
}

void FilterChain::data_end(std::string& to_store) {
  if (!scanner_) return;
  scanner_->finish(to_store);
  if (judged_ && !header_block_seen_) {  // a message that is all header block
    header_block_seen_ = true;
    for (auto& e : filters_) e.filter->on_header_block(scanner_->header_copy());
  }
}

unsigned FilterChain::removed_authentication_results() const {
  return scanner_ ? scanner_->removed_authentication_results() : 0;
}

namespace {
// A filter's end of data, its exception turned into a failure text ("" when
// it finished). Without this, `||` would take a throw for "not yet" and
// wait for the deadline (it waits for the first branch to succeed).
asio::awaitable<std::string> guarded_end_of_data(Filter& f, FilterResults& results) {
  std::string failure;
  try {
    co_await f.on_end_of_data(results);
  } catch (const std::exception& ex) {
    failure = std::string("failed: ") + ex.what();
  }
  co_return failure;
}
}  // namespace

asio::awaitable<ChainOutcome> FilterChain::end_of_data() {
  using namespace asio::experimental::awaitable_operators;
  ChainOutcome outcome;
  if (scanner_) {
    results_.from = scanner_->from_header();
    results_.header_copy = scanner_->header_copy();
  }
  if (!judged_) co_return outcome;
  auto& m = metrics::sluice_metrics();
  auto executor = co_await asio::this_coro::executor;
  for (auto& e : filters_) {
    Filter& f = *e.filter;
    const std::string name(f.name());
    if (std::find(disabled_.begin(), disabled_.end(), name) != disabled_.end()) continue;
    const auto started = std::chrono::steady_clock::now();
    std::string failure;
    {
      asio::steady_timer deadline(executor, e.settings->timeout);
      auto work = guarded_end_of_data(f, results_);
      auto expiry = deadline.async_wait(asio::use_awaitable);
      auto first = co_await (std::move(work) || std::move(expiry));
      if (first.index() == 1) failure = "timed out after " + std::to_string(e.settings->timeout.count()) + "s";
      else failure = std::get<0>(first);
    }
    m.filter_seconds.with({name}).observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!failure.empty()) {
      m.filter_failures.with({name, failure.rfind("timed", 0) == 0 ? "timeout" : "error"}).inc();
      f.fail(results_, failure);
      results_.failed.push_back(name);
      gateway::log_warn("filter_failed").field("filter", name).field("error", failure).emit();
      if (e.settings->on_failure == gateway::FilterFailure::defer && !outcome.defer) {
        outcome.defer = true;
        outcome.defer_reason = name + " " + failure;
      }
    }
    for (const auto& word : f.result_words(results_)) m.filter_results.with({name, word}).inc();
  }
  if (config_.received_spf) outcome.added_headers += received_spf_field(results_);
  outcome.added_headers = authentication_results_header(authserv_id_, results_) + outcome.added_headers;
  co_return outcome;
}

void FilterChain::reset() {
  for (auto& e : filters_) e.filter->reset();
  scanner_.reset();
  results_ = FilterResults{};
  judged_ = false;
  header_block_seen_ = false;
  disabled_.clear();
}

void FilterChain::disable(std::string_view filter) {
  for (auto& e : filters_)
    if (e.filter->name() == filter) e.filter->reset();  // stops SPF's lookups already under way
  disabled_.emplace_back(filter);
  if (filter == "dmarc") {
    results_.dmarc = DmarcResult{};
    results_.dmarc->status = DmarcStatus::off;
    results_.dmarc->status_text = "DMARC verification disabled by policy";
  }
}

std::shared_ptr<const PublicSuffixList> shared_public_suffix_list(std::string* error) {
  static std::once_flag once;
  static std::shared_ptr<const PublicSuffixList> list;
  static std::string why;
  std::call_once(once, [] { list = PublicSuffixList::load(std::string(PublicSuffixList::kDefaultPath), why); });
  if (error) *error = why;
  return list;
}

}  // namespace sluice::filters
