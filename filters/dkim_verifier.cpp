// dkim_verifier.cpp — key lookups and verdicts after the message has streamed.
#include "filters/dkim_verifier.hpp"

#include <chrono>
#include <map>

namespace sluice::filters {

DkimVerifier::DkimVerifier(DkimVerifyOptions options)
    : options_(options), hasher_(options.limits) {}

boost::asio::awaitable<std::vector<DkimResult>> DkimVerifier::finish(Resolver& resolver) {
  hasher_.finish();
  std::vector<DkimResult> results;
  if (hasher_.header_too_large()) {
    DkimResult r;
    r.status = DkimStatus::permerror;
    r.reason = DkimReason::header_too_large;
    results.push_back(std::move(r));
    co_return results;
  }
  const std::uint64_t now =
      options_.now.value_or(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()));
  std::map<std::string, DnsAnswer> answers;  // one lookup per key name
  for (const auto& hashed : hasher_.signatures()) {
    if (auto early = check_before_lookup(hashed, options_.checks, now)) {
      results.push_back(std::move(*early));
      continue;
    }
    const std::string name = key_query_name(*hashed.signature);
    auto found = answers.find(name);
    if (found == answers.end()) {
      DnsAnswer answer = co_await resolver.query(name, DnsType::TXT);
      found = answers.emplace(name, std::move(answer)).first;
    }
    results.push_back(check_with_key(hashed, found->second, options_.checks));
  }
  co_return results;
}

}  // namespace sluice::filters
