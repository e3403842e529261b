#include "filters/spf_filter.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "filters/spf_check.hpp"

namespace sluice::filters {

namespace asio = boost::asio;

struct SpfFilter::Check {
  explicit Check(const asio::any_io_executor& ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  SpfRequest request;
  std::optional<SpfResult> result;
  asio::steady_timer wake;          // cancelled when `result` is set
  asio::cancellation_signal cancel;  // reset(): stop the lookups
};

namespace {

// The caller's completion handler keeps `check` alive until this returns.
asio::awaitable<SpfResult> run_check(SpfFilter::Check* check, Resolver* resolver) {
  SpfResult r = co_await check_host(*resolver, check->request);
  co_return r;
}

}  // namespace

SpfFilter::~SpfFilter() { reset(); }

void SpfFilter::on_mail(const MailFacts& facts, const asio::any_io_executor& executor) {
  reset();
  if (!facts.client_ip) return;  // no address to check (XCLIENT ADDR=[UNAVAILABLE])
  auto check = std::make_shared<Check>(executor);
  check->request = make_mail_from_request(*facts.client_ip, facts.sender, facts.helo, facts.receiving_host);
  check_ = check;
  asio::co_spawn(executor, run_check(check.get(), &resolver_),
                 asio::bind_cancellation_slot(check->cancel.slot(), [check](std::exception_ptr e, SpfResult r) {
                   if (e) {
                     r = SpfResult{};
                     r.verdict = SpfVerdict::temperror;
                     r.problem = "the check was stopped";
                   }
                   check->result = std::move(r);
                   check->wake.cancel();
                 }));
}

asio::awaitable<void> SpfFilter::on_end_of_data(FilterResults& results) {
  std::shared_ptr<Check> check = check_;
  if (!check) co_return;  // not run for this message
  if (!check->result) {
    boost::system::error_code ec;
    co_await check->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!check->result) co_return;  // our deadline came first; the chain calls fail()
  results.spf_request = check->request;
  results.spf = *check->result;
}

void SpfFilter::fail(FilterResults& results, std::string_view why) {
  if (!check_) return;
  results.spf_request = check_->request;
  SpfResult r;
  r.verdict = SpfVerdict::temperror;
  r.identity = check_->request.identity;
  r.sender = check_->request.sender;
  r.problem = std::string(why);
  results.spf = std::move(r);
  reset();
}

void SpfFilter::reset() {
  if (!check_) return;
  if (!check_->result) check_->cancel.emit(asio::cancellation_type::terminal);
  check_.reset();
}

std::vector<std::string> SpfFilter::result_vocabulary() {
  std::vector<std::string> words;
  for (SpfVerdict v : {SpfVerdict::none, SpfVerdict::neutral, SpfVerdict::pass, SpfVerdict::fail,
                       SpfVerdict::softfail, SpfVerdict::temperror, SpfVerdict::permerror})
    words.emplace_back(to_string(v));
  return words;
}

std::vector<std::string> SpfFilter::result_words(const FilterResults& results) const {
  if (!results.spf) return {};
  return {std::string(to_string(results.spf->verdict))};
}

}  // namespace sluice::filters
