// dmarc_filter.hpp — DMARC (RFC 7489) as a filter. It runs after SPF and DKIM
// in the chain and judges their results against the author domain's policy;
// its own lookups (the _dmarc records) happen at the end of data.
#pragma once
#include <memory>

#include "filters/filter.hpp"
#include "filters/public_suffix.hpp"

namespace sluice::filters {

class DmarcFilter final : public Filter {
 public:
  DmarcFilter(Resolver& resolver, std::shared_ptr<const PublicSuffixList> psl)
      : resolver_(resolver), psl_(std::move(psl)) {}

  std::string_view name() const override { return "dmarc"; }
  void on_mail(const MailFacts&, const boost::asio::any_io_executor&) override { active_ = true; }
  boost::asio::awaitable<void> on_end_of_data(FilterResults& results) override;
  void fail(FilterResults& results, std::string_view why) override;
  void reset() override { active_ = false; }
  std::vector<std::string> result_words(const FilterResults& results) const override;
  // Every word result_words() can give (filters/filter_metrics.hpp).
  static std::vector<std::string> result_vocabulary();

 private:
  Resolver& resolver_;
  std::shared_ptr<const PublicSuffixList> psl_;
  bool active_ = false;
};

}  // namespace sluice::filters
