// ares_resolver.hpp — DNS through c-ares on one worker's io_context.
//
// One c-ares channel per worker. c-ares tells us which sockets it wants
// watched (ARES_OPT_SOCK_STATE_CB); each is wrapped in a posix
// stream_descriptor whose async_wait wakes ares_process_fd, and one
// steady_timer, set from ares_timeout(), drives retries and timeouts. No
// thread blocks and nothing polls on a clock: the loop sleeps until a socket
// is ready or the next c-ares deadline comes. c-ares owns the sockets: we
// release(), never close(), a descriptor it is done with.
//
// Threads: construct anywhere; after that every call (query, destruction)
// happens on the io_context's thread. query() coroutines resume there too.
//
// Behaviour: exact names (ares_query, no search list); per-try timeout and
// tries from [dns]; a truncated UDP answer (TC) is asked again over TCP by
// c-ares (ARES_FLAG_IGNTC is not set). Cancelling a waiting query() resumes
// it at once with status error; destroying the resolver completes every
// query still in flight with status error (ARES_EDESTRUCTION), through the
// io_context, so no coroutine is left suspended forever by us.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "filters/resolver.hpp"
#include "gateway/config.hpp"

namespace sluice::filters {

class AresResolver final : public Resolver {
 public:
  // Throws std::runtime_error when the channel cannot be made (start-up error).
  AresResolver(boost::asio::io_context& ctx, const gateway::DnsConfig& config);
  ~AresResolver() override;
  AresResolver(const AresResolver&) = delete;
  AresResolver& operator=(const AresResolver&) = delete;

  boost::asio::awaitable<DnsAnswer> query(std::string_view name, DnsType type) override;

  // The servers c-ares is using, "ip:port" comma-separated (for the start-up log).
  std::string servers() const;
  // Queries sent and not yet completed by c-ares (tests check it drains to 0).
  std::size_t in_flight() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::filters
