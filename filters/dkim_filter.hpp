// dkim_filter.hpp — DKIM verification (RFC 6376, RFC 8463) as a filter: the
// body hashes are computed as DATA streams through on_data(), the keys are
// fetched and the signatures checked at the end of data.
#pragma once
#include <memory>

#include "filters/dkim_verifier.hpp"
#include "filters/filter.hpp"

namespace sluice::filters {

class DkimFilter final : public Filter {
 public:
  explicit DkimFilter(Resolver& resolver) : resolver_(resolver) {}

  std::string_view name() const override { return "dkim"; }
  void on_mail(const MailFacts&, const boost::asio::any_io_executor&) override;
  void on_data(std::string_view bytes) override;
  boost::asio::awaitable<void> on_end_of_data(FilterResults& results) override;
  void fail(FilterResults& results, std::string_view why) override;
  void reset() override { verifier_.reset(); }
  std::vector<std::string> result_words(const FilterResults& results) const override;
  // Every word result_words() can give (filters/filter_metrics.hpp).
  static std::vector<std::string> result_vocabulary();

 private:
  Resolver& resolver_;
  std::unique_ptr<DkimVerifier> verifier_;
};

}  // namespace sluice::filters
