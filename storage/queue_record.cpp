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
  // The envelope part is the same object the file spool wrote (and the
  // integration tests read); the queue's own fields are added beside it.
  json::value v = json::parse(to_json(r.envelope));
  json::object& o = v.as_object();
  o["state"] = name_of(r.state);
  o["body_place"] = r.body == BodyPlace::file ? "file" : "inline";
  o["next_retry"] = r.next_retry;
  o["updated_at"] = r.updated_at;
  o["attempts"] = r.attempts;
  // The envelope's JSON writes a login byte that is not UTF-8 as the code
  // point of the same value (storage/envelope.hpp), which reads back as two
  // bytes: keep the exact bytes beside it so the exporter gets what the
  // session got.
  if (auto* login = o.if_contains("login"); login && login->is_string() && login->get_string() != r.envelope.login)
    o["login_hex"] = hex(r.envelope.login);
  json::array& rcpts = o["recipients"].as_array();
  for (std::size_t i = 0; i < rcpts.size() && i < r.progress.size(); ++i) {
    json::object& ro = rcpts[i].as_object();
    ro["state"] = name_of(r.progress[i].state);
    if (!r.progress[i].route.empty()) ro["route"] = r.progress[i].route;
    if (!r.progress[i].last_error.empty()) ro["error"] = r.progress[i].last_error;
  }
  return json::serialize(v);
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
