#include "gateway/queue_command.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "gateway/config_loader.hpp"
#include "storage/queue_store.hpp"

namespace sluice::gateway {
namespace {

using storage::QueueRecord;
using storage::QueueStore;
using storage::QueueView;

int usage() {
  std::cerr << "usage: sluice queue [--config FILE | --spool DIR] [--json] [--data]\n"
               "         list | count | show ID | headers ID | body ID | retry ID | delete ID | flush\n";
  return 2;
}

// Exim's -bp age column: minutes up to an hour, hours up to two days, then days.
std::string age_text(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 3600) return std::to_string(seconds / 60) + "m";
  if (seconds < 48 * 3600) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

// Exim's -bp size column: bytes, then K and M with one decimal below ten.
std::string size_text(std::uint64_t n) {
  char buf[32];
  if (n < 10 * 1024) {
    if (n < 1024) std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
    else std::snprintf(buf, sizeof buf, "%.1fK", n / 1024.0);
  } else if (n < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%lluK", static_cast<unsigned long long>(n / 1024));
  } else if (n < 10ull * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1fM", n / (1024.0 * 1024));
  } else {
    std::snprintf(buf, sizeof buf, "%lluM", static_cast<unsigned long long>(n / (1024 * 1024)));
  }
  return buf;
}

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// The stored message: inline from LMDB, or the body file.
// The filters' added header lines come first (Envelope::added_headers).
bool read_message(const QueueStore& store, const QueueView& v, const QueueRecord& r, std::string& out) {
  out = r.envelope.added_headers;
  if (r.body == storage::BodyPlace::inline_value) {
    auto b = v.inline_body(r.envelope.id);
    if (!b) return false;
    out.append(*b);
    return true;
  }
  std::ifstream f(store.body_path(r.envelope.id), std::ios::binary);
  if (!f) return false;
  out.append(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

std::size_t header_end(std::string_view m) {
  if (m.rfind("\r\n", 0) == 0) return 0;
  auto p = m.find("\r\n\r\n");
  return p == std::string_view::npos ? m.size() : p + 2;
}

void print_bp(const QueueRecord& r, std::int64_t now) {
  const auto& e = r.envelope;
  std::string line = age_text(now - e.received_at);
  std::printf("%3s %5s %s <%s>", line.c_str(), size_text(e.size).c_str(), e.id.c_str(), e.sender.c_str());
  if (r.state == storage::MessageState::deferred)
    std::printf(" *** deferred, retry in %llds ***", static_cast<long long>(std::max<std::int64_t>(0, r.next_retry - now)));
  else if (r.state != storage::MessageState::queued)
    std::printf(" *** %s ***", std::string(storage::name_of(r.state)).c_str());
  std::printf("\n");
  for (std::size_t i = 0; i < e.recipients.size(); ++i) {
    const auto st = i < r.progress.size() ? r.progress[i].state : storage::RecipientState::pending;
    const char mark = st == storage::RecipientState::delivered ? 'D' : st == storage::RecipientState::failed ? 'F' : ' ';
    std::printf("        %c %s\n", mark, e.recipients[i].address.c_str());
  }
  std::printf("\n");
}

}  // namespace

int queue_command(const std::vector<std::string>& args) {
  std::string config_path, spool_dir;
  bool json = false, data = false;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--config" || args[i] == "-c") && i + 1 < args.size()) config_path = args[++i];
    else if (args[i] == "--spool" && i + 1 < args.size()) spool_dir = args[++i];
    else if (args[i] == "--json") json = true;
    else if (args[i] == "--data") data = true;
    else if (!args[i].empty() && args[i][0] == '-') return usage();
    else words.push_back(args[i]);
  }
  if (words.empty()) return usage();
  const std::string cmd = words[0];
  const bool needs_id = cmd == "show" || cmd == "headers" || cmd == "body" || cmd == "retry" || cmd == "delete";
  if (needs_id != (words.size() == 2) || words.size() > 2) return usage();
  if (!needs_id && cmd != "list" && cmd != "count" && cmd != "flush") return usage();

  std::uint64_t configured_map_size = 0;  // none known: with --spool
  if (spool_dir.empty()) {
    ConfigLoad load = config_path.empty() ? load_config_text(embedded_default_config(), "<embedded default>")
                                          : load_config_file(config_path);
    if (!load.config) {
      for (const auto& p : load.problems) std::cerr << p.to_string() << "\n";
      return 1;
    }
    spool_dir = load.config->spool.directory;
    configured_map_size = load.config->spool.map_size;
  }
  const bool writes = cmd == "retry" || cmd == "delete" || cmd == "flush";
  // A write open creates a missing spool (as the gateway's must): a mistyped
  // --spool would leave an empty queue behind and say "no message".
  if (writes && ::access((spool_dir + "/queue/data.mdb").c_str(), F_OK) != 0) {
    std::cerr << "sluice queue: no queue at " << spool_dir << "/queue\n";
    return 1;
  }
  std::error_code ec;
  std::string error_text;
  // A guest of the gateway's queue: our writes stay within the map size the
  // gateway recorded (the configured one only if it recorded none), so they
  // can never grow the file past the map of a gateway running beside us.
  storage::QueueStoreOptions o;
  o.read_only = !writes;
  o.role = storage::QueueStoreRole::guest;
  o.map_size = configured_map_size;
  auto store = QueueStore::open(spool_dir, o, ec, error_text);
  if (!store) {
    std::cerr << "sluice queue: " << error_text << "\n";
    return 1;
  }
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  const std::string id = needs_id ? words[1] : std::string();
  int status = 0;

  if (cmd == "list") {
    store->read([&](const QueueView& v) {
      v.for_each([&](std::string_view, std::string_view text) {
        auto r = storage::queue_record_from_json(text);
        if (!r) return true;
        if (json) {
          if (data) {
            std::string message;
            boost::json::value j = boost::json::parse(text);
            if (read_message(*store, v, *r, message)) j.as_object()["data_b64"] = base64(message);
            std::cout << boost::json::serialize(j) << "\n";
          } else {
            std::cout << text << "\n";
          }
        } else {
          print_bp(*r, now);
        }
        return true;
      });
    });
  } else if (cmd == "count") {
    store->read([&](const QueueView& v) { std::cout << v.count() << "\n"; });
  } else if (cmd == "show" || cmd == "headers" || cmd == "body") {
    store->read([&](const QueueView& v) {
      auto text = v.record_json(id);
      auto r = text ? storage::queue_record_from_json(*text) : std::nullopt;
      if (!r) {
        std::cerr << "sluice queue: no message " << id << "\n";
        status = 1;
        return;
      }
      if (cmd == "show") {
        if (json) std::cout << *text << "\n";
        else print_bp(*r, now);
        return;
      }
      std::string message;
      if (!read_message(*store, v, *r, message)) {
        std::cerr << "sluice queue: the body of " << id << " is gone (state " << storage::name_of(r->state) << ")\n";
        status = 1;
        return;
      }
      const std::size_t split = header_end(message);
      if (cmd == "headers") std::cout << message.substr(0, split);
      else std::cout << message.substr(std::min(message.size(), split + 2));
    });
  } else {
    // retry, delete, flush
    std::string body_file;
    std::uint64_t found = 0, changed = 0;
    std::string not_deferred;  // retry of one message that is not waiting: its state
    ec = store->write([&](storage::QueueWriter& w) -> std::error_code {
      std::vector<std::string> ids;
      if (cmd == "flush") {
        w.for_each_due(INT64_MAX, [&](std::string_view d) {
          ids.emplace_back(d);
          return true;
        });
      } else {
        ids.push_back(id);
      }
      for (const auto& one : ids) {
        auto r = w.record(one);
        if (!r) continue;
        ++found;
        if (cmd == "delete") {
          ++changed;
          if (r->body == storage::BodyPlace::file) body_file = store->body_path(one);
          if (auto e = w.erase_body(one)) return e;
          if (auto e = w.erase_record(one)) return e;
        } else if (r->state == storage::MessageState::deferred) {
          r->next_retry = now;
          if (auto e = w.put(*r)) return e;
          ++changed;
        } else if (cmd == "retry") {
          not_deferred = std::string(storage::name_of(r->state));
        }
      }
      return {};
    });
    if (ec) {
      std::cerr << "sluice queue: " << cmd << " failed: " << ec.message() << "\n";
      return 1;
    }
    if (!body_file.empty()) ::unlink(body_file.c_str());
    if (needs_id && found == 0) {
      std::cerr << "sluice queue: no message " << id << "\n";
      return 1;
    }
    std::cout << cmd << ": " << changed << " message" << (changed == 1 ? "" : "s");
    // Only deferred messages wait for a retry; the others are already
    // being handled (or finished): say so rather than claim a change.
    if (!not_deferred.empty()) std::cout << " (" << id << " is " << not_deferred << ", not deferred)";
    std::cout << "\n";
  }
  return status;
}

}  // namespace sluice::gateway
