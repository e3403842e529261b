#include "filters/ares_resolver.hpp"

#include <ares.h>
#include <poll.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "filters/dns_reply.hpp"

namespace sluice::filters {

namespace asio = boost::asio;

namespace {

using AnswerHandler = asio::any_completion_handler<void(DnsAnswer)>;

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS)
      throw std::runtime_error(std::string("c-ares library init: ") + ares_strerror(rc));
  });
}

// Is the socket ready now? Asio's epoll reactor is edge-triggered and a wait
// is never tried speculatively, so readiness that was already there when we
// re-arm (a TCP reply c-ares read only part of) would never be reported.
bool ready_now(int fd, asio::posix::descriptor_base::wait_type dir) {
  pollfd p{fd, static_cast<short>(dir == asio::posix::descriptor_base::wait_read ? POLLIN : POLLOUT), 0};
  return ::poll(&p, 1, 0) > 0 && p.revents != 0;
}

bool is_query_name(std::string_view name) {
  return !name.empty() && name.size() <= 254 && name.find('\0') == std::string_view::npos;
}

DnsAnswer error_answer(std::string why) {
  DnsAnswer a;
  a.status = DnsStatus::error;
  a.error = std::move(why);
  return a;
}

}  // namespace

// One socket c-ares asked us to watch.
struct Watch {
  Watch(asio::io_context& ctx, ares_socket_t s) : descriptor(ctx, s), fd(s) {}
  asio::posix::stream_descriptor descriptor;
  ares_socket_t fd;
  bool want_read = false, want_write = false;
  bool reading = false, writing = false;  // a wait (or a posted wake-up) is outstanding
  bool released = false;                  // c-ares is done with it
};

struct Pending {
  AresResolver::Impl* impl = nullptr;
  // Empty once completed (answer or cancellation). In an optional because
  // Boost 1.81's any_completion_handler move-assignment recurses forever:
  // only its move constructor is used here.
  std::optional<AnswerHandler> handler;
  DnsType type = DnsType::A;
};

struct AresResolver::Impl {
  Impl(asio::io_context& c, const gateway::DnsConfig& cfg) : ctx(c), config(cfg), timer(c) {}

  asio::io_context& ctx;
  gateway::DnsConfig config;
  ares_channel channel = nullptr;
  asio::steady_timer timer;
  std::unordered_map<ares_socket_t, std::shared_ptr<Watch>> watches;
  std::size_t in_flight = 0;
  // Handlers hold a weak_ptr to this: one that runs after the resolver is
  // gone (io_context still running) sees it expired and does nothing.
  std::shared_ptr<int> alive = std::make_shared<int>(0);

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Impl*>(data)->sock_state(fd, readable != 0, writable != 0);
  }

  void sock_state(ares_socket_t fd, bool readable, bool writable) {
    auto it = watches.find(fd);
    if (!readable && !writable) {
      if (it == watches.end()) return;
      // c-ares closes the socket itself after this: give it back, don't close.
      it->second->released = true;
      it->second->descriptor.release();
      watches.erase(it);
      return;
    }
    if (it == watches.end()) it = watches.emplace(fd, std::make_shared<Watch>(ctx, fd)).first;
    it->second->want_read = readable;
    it->second->want_write = writable;
    arm(it->second);
  }

  void arm(const std::shared_ptr<Watch>& w) {
    if (w->want_read && !w->reading) wait(w, asio::posix::descriptor_base::wait_read);
    if (w->want_write && !w->writing) wait(w, asio::posix::descriptor_base::wait_write);
  }

  void wait(const std::shared_ptr<Watch>& w, asio::posix::descriptor_base::wait_type dir) {
    (dir == asio::posix::descriptor_base::wait_read ? w->reading : w->writing) = true;
    std::weak_ptr<Watch> weak = w;
    std::weak_ptr<int> token = alive;
    auto on_ready = [this, weak, token, dir](boost::system::error_code ec) {
      if (token.expired()) return;
      ready(weak, dir, ec);
    };
    if (ready_now(w->fd, dir))
      asio::post(ctx, [on_ready] { on_ready({}); });
    else
      w->descriptor.async_wait(dir, on_ready);
  }

  void ready(const std::weak_ptr<Watch>& weak, asio::posix::descriptor_base::wait_type dir,
             boost::system::error_code ec) {
    auto w = weak.lock();
    if (!w || w->released) return;
    (dir == asio::posix::descriptor_base::wait_read ? w->reading : w->writing) = false;
    if (ec == asio::error::operation_aborted) return;
    // Any other error: let c-ares try the socket and find out itself.
    const bool read = dir == asio::posix::descriptor_base::wait_read;
    ares_process_fd(channel, read ? w->fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : w->fd);
    if (!w->released) arm(w);
    reschedule_timer();
  }

  // The one timer: c-ares's next deadline (a retry, another server, or a
  // query's timeout). None pending: no timer.
  void reschedule_timer() {
    timeval tv{};
    if (!ares_timeout(channel, nullptr, &tv) || in_flight == 0) {
      timer.cancel();
      return;
    }
    timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    std::weak_ptr<int> token = alive;
    timer.async_wait([this, token](boost::system::error_code ec) {
      if (ec || token.expired()) return;
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      reschedule_timer();
    });
  }

  // Resumes the waiting coroutine through its executor, never inline: the
  // caller may be inside c-ares (a callback) or inside a cancellation signal.
  void complete(const std::shared_ptr<Pending>& p, DnsAnswer answer) {
    if (!p->handler) return;
    AnswerHandler h(std::move(*p->handler));
    p->handler.reset();
    asio::post(ctx, [h = std::move(h), a = std::move(answer)]() mutable {
      auto slot = asio::get_associated_cancellation_slot(h);
      if (slot.is_connected()) slot.clear();
      // We run on the loop the query was started from, which is the
      // coroutine's (the contract in resolver.hpp), so it resumes right here.
      std::move(h)(std::move(a));
    });
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* reply, int length) {
    std::unique_ptr<std::shared_ptr<Pending>> holder(static_cast<std::shared_ptr<Pending>*>(arg));
    const std::shared_ptr<Pending>& p = *holder;
    Impl& self = *p->impl;
    --self.in_flight;
    if (!p->handler) return;  // cancelled: nobody waits for this answer any more
    DnsAnswer answer = parse_reply(status, reply, length, p->type, self.config.negative_ttl);
    if (status == ARES_EDESTRUCTION) answer.error = "resolver shut down";
    self.complete(p, std::move(answer));
  }

  void start(const std::string& name, DnsType type, AnswerHandler handler) {
    auto p = std::make_shared<Pending>();
    p->impl = this;
    p->type = type;
    p->handler.emplace(std::move(handler));
    if (!is_query_name(name)) {
      complete(p, error_answer("not a valid query name"));
      return;
    }
    auto slot = asio::get_associated_cancellation_slot(*p->handler);
    if (slot.is_connected()) {
      std::weak_ptr<int> token = alive;
      slot.assign([this, p, token](asio::cancellation_type) {
        if (!token.expired()) complete(p, error_answer("cancelled"));
      });
    }
    ++in_flight;
    ares_query(channel, name.c_str(), 1 /* C_IN */, static_cast<int>(type), &Impl::on_answer,
               new std::shared_ptr<Pending>(p));
    reschedule_timer();
  }
};

AresResolver::AresResolver(asio::io_context& ctx, const gateway::DnsConfig& config)
    : impl_(std::make_unique<Impl>(ctx, config)) {
  init_library_once();
  ares_options opts{};
  int mask = 0;
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  mask |= ARES_OPT_FLAGS;
  opts.timeout = static_cast<int>(config.timeout.count());
  mask |= ARES_OPT_TIMEOUTMS;
  opts.tries = static_cast<int>(config.tries);
  mask |= ARES_OPT_TRIES;
  opts.udp_port = config.port;
  opts.tcp_port = config.port;
  mask |= ARES_OPT_UDP_PORT | ARES_OPT_TCP_PORT;
  opts.sock_state_cb = &Impl::on_sock_state;
  opts.sock_state_cb_data = impl_.get();
  mask |= ARES_OPT_SOCK_STATE_CB;
  if (int rc = ares_init_options(&impl_->channel, &opts, mask); rc != ARES_SUCCESS)
    throw std::runtime_error(std::string("c-ares channel: ") + ares_strerror(rc));
  if (!config.servers.empty()) {
    std::string csv;
    for (const auto& s : config.servers) {
      if (!csv.empty()) csv += ',';
      csv += s.find(':') == std::string::npos ? s : "[" + s + "]";
      csv += ":" + std::to_string(config.port);
    }
    if (int rc = ares_set_servers_ports_csv(impl_->channel, csv.c_str()); rc != ARES_SUCCESS) {
      ares_destroy(impl_->channel);
      throw std::runtime_error("c-ares servers \"" + csv + "\": " + ares_strerror(rc));
    }
  }
}

AresResolver::~AresResolver() {
  // Completes every query in flight with ARES_EDESTRUCTION (posted to the
  // io_context) and hands back every socket through on_sock_state.
  ares_destroy(impl_->channel);
  for (auto& [fd, w] : impl_->watches) {
    w->released = true;
    w->descriptor.release();
  }
  impl_->watches.clear();
  impl_->timer.cancel();
}

asio::awaitable<DnsAnswer> AresResolver::query(std::string_view name, DnsType type) {
  std::string qname(name);
  Impl* impl = impl_.get();
  auto initiate = [impl, &qname, type](AnswerHandler handler) { impl->start(qname, type, std::move(handler)); };
  DnsAnswer answer =
      co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(DnsAnswer)>(initiate, asio::use_awaitable);
  // A CNAME without the target's records: ask the target (RFC 1034 5.3.3).
  std::uint32_t ttl = answer.ttl;
  for (int hop = 0; answer.status == DnsStatus::nodata && !answer.canonical_name.empty(); ++hop) {
    if (hop == kMaxCnameHops) {
      DnsAnswer loop;
      loop.status = DnsStatus::error;
      loop.error = "CNAME chain longer than " + std::to_string(kMaxCnameHops);
      co_return loop;
    }
    const std::string target = answer.canonical_name;
    qname = target;
    DnsAnswer next =
        co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(DnsAnswer)>(initiate, asio::use_awaitable);
    ttl = std::min(ttl, next.ttl);
    // Only an answer that is itself an alias continues the chase. A target
    // with no CNAME of its own ends it, with or without records: a NODATA
    // there is the final answer (RFC 2308 2.2), not one more hop.
    const bool target_is_alias = !next.canonical_name.empty();
    answer = std::move(next);
    answer.ttl = ttl;
    if (!target_is_alias) {
      answer.canonical_name = target;
      break;
    }
  }
  co_return answer;
}

std::string AresResolver::servers() const {
  ares_addr_port_node* list = nullptr;
  if (ares_get_servers_ports(impl_->channel, &list) != ARES_SUCCESS) return "";
  std::string out;
  char buf[64];
  for (auto* n = list; n; n = n->next) {
    if (!ares_inet_ntop(n->family, &n->addr, buf, sizeof buf)) continue;
    if (!out.empty()) out += ',';
    out += n->family == AF_INET6 ? "[" + std::string(buf) + "]" : std::string(buf);
    out += ":" + std::to_string(n->udp_port ? n->udp_port : impl_->config.port);
  }
  ares_free_data(list);
  return out;
}

std::size_t AresResolver::in_flight() const { return impl_->in_flight; }

}  // namespace sluice::filters
