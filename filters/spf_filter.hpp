// spf_filter.hpp — SPF (RFC 7208) as a filter: check_host() for the MAIL FROM
// identity (HELO's for the null sender) starts when MAIL is accepted and runs
// while the client sends RCPT and the message; the end of data only collects
// its result.
#pragma once
#include <memory>

#include "filters/filter.hpp"

namespace sluice::filters {

class SpfFilter final : public Filter {
 public:
  explicit SpfFilter(Resolver& resolver) : resolver_(resolver) {}
  ~SpfFilter() override;

  std::string_view name() const override { return "spf"; }
  void on_mail(const MailFacts& facts, const boost::asio::any_io_executor& executor) override;
  boost::asio::awaitable<void> on_end_of_data(FilterResults& results) override;
  void fail(FilterResults& results, std::string_view why) override;
  void reset() override;
  std::vector<std::string> result_words(const FilterResults& results) const override;
  // Every word result_words() can give (filters/filter_metrics.hpp).
  static std::vector<std::string> result_vocabulary();

  // The check in the background, shared with its completion handler so
  // that a reset never leaves the handler writing into freed memory.
  struct Check;

 private:
  Resolver& resolver_;
  std::shared_ptr<Check> check_;
};

}  // namespace sluice::filters
