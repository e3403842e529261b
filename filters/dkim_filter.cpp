#include "filters/dkim_filter.hpp"

namespace sluice::filters {

void DkimFilter::on_mail(const MailFacts&, const boost::asio::any_io_executor&) {
  verifier_ = std::make_unique<DkimVerifier>();
}

void DkimFilter::on_data(std::string_view bytes) {
  if (verifier_) verifier_->feed(bytes);
}

boost::asio::awaitable<void> DkimFilter::on_end_of_data(FilterResults& results) {
  if (!verifier_) co_return;
  std::vector<DkimResult> checked = co_await verifier_->finish(resolver_);
  results.dkim_ran = true;
  results.dkim = std::move(checked);
  verifier_.reset();
}

void DkimFilter::fail(FilterResults& results, std::string_view why) {
  if (!verifier_) return;
  results.dkim_ran = true;
  results.dkim.clear();
  DkimResult r;
  r.status = DkimStatus::temperror;
  r.reason = DkimReason::dns;
  r.detail = std::string(why);
  results.dkim.push_back(std::move(r));
  verifier_.reset();
}

std::vector<std::string> DkimFilter::result_vocabulary() {
  std::vector<std::string> words{"none"};  // an unsigned message
  for (DkimStatus s : {DkimStatus::pass, DkimStatus::fail, DkimStatus::policy, DkimStatus::neutral,
                       DkimStatus::temperror, DkimStatus::permerror})
    words.emplace_back(to_string(s));
  return words;
}

std::vector<std::string> DkimFilter::result_words(const FilterResults& results) const {
  if (!results.dkim_ran) return {};
  if (results.dkim.empty()) return {"none"};
  std::vector<std::string> words;
  for (const auto& r : results.dkim) words.emplace_back(to_string(r.status));
  return words;
}

}  // namespace sluice::filters
