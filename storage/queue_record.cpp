#include "storage/queue_record.hpp"

#include <boost/json.hpp>

namespace sluice::storage {
namespace json = boost::json;
namespace {

constexpr std::string_view kMessageStates[] = {"queued", "delivering", "deferred", "done", "bounced"};
constexpr std::string_view kRecipientStates[] = {"pending", "delivered", "deferred", "failed"};

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t num(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return 0;
}

bool boolean(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

std::optional<RecipientState> recipient_state_from(std::string_view s) {
  for (std::size_t i = 0; i < std::size(kRecipientStates); ++i)
    if (kRecipientStates[i] == s) return static_cast<RecipientState>(i);
  return std::nullopt;
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace

std::string_view name_of(MessageState s) { return kMessageStates[static_cast<int>(s)]; }
std::string_view name_of(RecipientState s) { return kRecipientStates[static_cast<int>(s)]; }

std::optional<MessageState> message_state_from(std::string_view s) {
  for (std::size_t i = 0; i < std::size(kMessageStates); ++i)
    if (kMessageStates[i] == s) return static_cast<MessageState>(i);
  return std::nullopt;
}

std::optional<MessageState> peek_state(std::string_view json) {
  constexpr std::string_view key = "\"state\":\"";
  const auto at = json.rfind(key);
  if (at == std::string_view::npos) return std::nullopt;
  const auto start = at + key.size();
  const auto end = json.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  return message_state_from(json.substr(start, end - start));
}

void QueueRecord::start_progress() { progress.assign(envelope.recipients.size(), RecipientProgress{}); }

bool QueueRecord::all_recipients_final() const {
  for (const auto& p : progress)
    if (p.state == RecipientState::pending || p.state == RecipientState::deferred) return false;
  return true;
}

std::string to_json(const QueueRecord& r) {
  // The envelope's object as the envelope writes it, with the queue's own
  // fields added in the same pass: per recipient its progress, then the
  // message's state (after the recipients' states: peek_state() relies on it).
  EnvelopeJsonExtras extras;
  extras.recipient = [&r](std::string& out, std::size_t i) {
    if (i >= r.progress.size()) return;
    const RecipientProgress& p = r.progress[i];
    json_member(out, "state", name_of(p.state));
    if (!p.route.empty()) json_member(out, "route", p.route);
    if (!p.last_error.empty()) json_member(out, "error", p.last_error);
  };
  extras.object = [&r](std::string& out) {
    json_member(out, "state", name_of(r.state));
    json_member(out, "body_place", r.body == BodyPlace::file ? "file" : "inline");
    json_member(out, "next_retry", r.next_retry);
    json_member(out, "updated_at", r.updated_at);
    json_member(out, "attempts", std::int64_t{r.attempts});
    // A login byte that is not UTF-8 is written as the code point of the
    // same value (storage/envelope.hpp), which reads back as two bytes: keep
    // the exact bytes beside it so the exporter gets what the session got.
    if (!json_keeps_bytes(r.envelope.login)) json_member(out, "login_hex", hex(r.envelope.login));
  };
  std::string out;
  append_envelope_json(out, r.envelope, extras);
  return out;
}

std::optional<QueueRecord> queue_record_from_json(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  QueueRecord r;
  Envelope& e = r.envelope;
  e.id = str(o, "id");
  if (e.id.empty()) return std::nullopt;
  e.sender = str(o, "sender");
  e.received_at = num(o, "received_at");
  e.size = static_cast<std::uint64_t>(num(o, "size"));
  e.body_type = str(o, "body");
  e.smtputf8 = boolean(o, "smtputf8");
  e.ret = str(o, "ret");
  e.envid = str(o, "envid");
  e.requiretls = boolean(o, "requiretls");
  e.helo = str(o, "helo");
  e.protocol = str(o, "protocol");
  e.client_addr = str(o, "client_addr");
  e.client_port = static_cast<std::uint16_t>(num(o, "client_port"));
  e.client_name = str(o, "client_name");
  e.proxy_addr = str(o, "proxy_addr");
  e.origin = str(o, "origin");
  e.login = str(o, "login");
  e.added_headers = str(o, "added_headers");
  e.quarantine_directory = str(o, "quarantine_directory");
  if (o.contains("login_hex")) {
    auto exact = unhex(str(o, "login_hex"));
    if (!exact) return std::nullopt;
    e.login = std::move(*exact);
  }
  auto state = message_state_from(str(o, "state"));
  if (!state) return std::nullopt;
  r.state = *state;
  r.body = str(o, "body_place") == "file" ? BodyPlace::file : BodyPlace::inline_value;
  r.next_retry = num(o, "next_retry");
  r.updated_at = num(o, "updated_at");
  r.attempts = static_cast<std::uint32_t>(num(o, "attempts"));
  auto* rcpts = o.if_contains("recipients");
  if (!rcpts || !rcpts->is_array()) return std::nullopt;
  for (const auto& item : rcpts->get_array()) {
    if (!item.is_object()) return std::nullopt;
    const json::object& ro = item.get_object();
    EnvelopeRecipient er;
    er.address = str(ro, "address");
    er.notify = static_cast<unsigned>(num(ro, "notify"));
    er.orcpt = str(ro, "orcpt");
    e.recipients.push_back(std::move(er));
    RecipientProgress p;
    p.state = recipient_state_from(str(ro, "state")).value_or(RecipientState::pending);
    p.route = str(ro, "route");
    p.last_error = str(ro, "error");
    r.progress.push_back(std::move(p));
  }
  return r;
}

}  // namespace sluice::storage
