#include "gateway/config_values.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace sluice::gateway {

namespace {

// Leading decimal digits of `text` as a number, and the rest.
struct NumberAndUnit {
  std::uint64_t number = 0;
  std::string_view unit;
};

std::optional<NumberAndUnit> split_number(std::string_view text) {
  NumberAndUnit out;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out.number);
  if (ec != std::errc{}) return std::nullopt;  // no digits, or overflow
  out.unit = std::string_view(p, static_cast<std::size_t>(end - p));
  return out;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// Levenshtein distance, for "did you mean" on unknown keys. Keys are short.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  auto nu = split_number(text);
  if (!nu) return std::nullopt;
  std::uint64_t scale = 0;
  if (nu->unit == "s") scale = 1;
  else if (nu->unit == "m") scale = 60;
  else if (nu->unit == "h") scale = 3600;
  else if (nu->unit == "d") scale = 86400;
  else return std::nullopt;
  // Callers cap durations far below this; it only keeps the product exact.
  if (nu->number > std::numeric_limits<std::int64_t>::max() / scale) return std::nullopt;
  return std::chrono::seconds(static_cast<std::int64_t>(nu->number * scale));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  auto nu = split_number(text);
  if (!nu || nu->unit.size() != 1) return std::nullopt;
  unsigned shift = 0;
  switch (nu->unit[0]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: return std::nullopt;
  }
  if (nu->number > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
  return nu->number << shift;
}

bool is_domain_name(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  for (;;) {
    const auto dot = text.find('.');
    if (!is_label(text.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    text.remove_prefix(dot + 1);
  }
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string machine_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  const std::string name(buf);  // a truncated name may lack its NUL; buf[255] stays 0
  return is_domain_name(name) ? name : "localhost";
}

// ---------------------------------------------------------------- problems

void ProblemSink::add(const toml::source_region& where, std::string message) {
  problems_.push_back(ConfigProblem{file_, static_cast<int>(where.begin.line),
                                    static_cast<int>(where.begin.column), std::move(message)});
}

std::size_t ProblemSink::count() const { return problems_.size(); }

void ProblemSink::add_without_position(std::string message) {
  problems_.push_back(ConfigProblem{file_, 0, 0, std::move(message)});
}

std::vector<ConfigProblem> ProblemSink::take_sorted() {
  std::stable_sort(problems_.begin(), problems_.end(), [](const ConfigProblem& a, const ConfigProblem& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::move(problems_);
}

// ---------------------------------------------------------------- reader

TableReader::TableReader(const toml::table& table, std::string path, std::string what, ProblemSink& sink)
    : table_(table), path_(std::move(path)), what_(std::move(what)), sink_(sink) {}

std::string TableReader::name(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void TableReader::problem(const toml::node& at, std::string_view key, std::string message) {
  sink_.add(at.source(), name(key) + ": " + message);
}

void TableReader::wrong_type(const toml::node& at, std::string_view key, std::string_view expected) {
  problem(at, key, "expected " + std::string(expected) + ", got " + std::string(type_name(at)));
}

const toml::node* TableReader::take(std::string_view key) {
  known_.emplace_back(key);
  return table_.get(key);
}

bool TableReader::integer(std::string_view key, std::int64_t min, std::int64_t max, std::int64_t& out) {
  const toml::node* node = take(key);
  if (!node) return false;
  const auto* v = node->as_integer();
  if (!v) {
    wrong_type(*node, key, "an integer");
    return false;
  }
  const std::int64_t n = v->get();
  if (n < min || n > max) {
    problem(*node, key, std::to_string(n) + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
    return false;
  }
  out = n;
  return true;
}

bool TableReader::boolean(std::string_view key, bool& out) {
  const toml::node* node = take(key);
  if (!node) return false;
  const auto* v = node->as_boolean();
  if (!v) {
    wrong_type(*node, key, "a boolean (true or false)");
    return false;
  }
  out = v->get();
  return true;
}

const toml::node* TableReader::find_string(std::string_view key, std::string& out) {
  const toml::node* node = take(key);
  if (!node) return nullptr;
  const auto* v = node->as_string();
  if (!v) {
    wrong_type(*node, key, "a string");
    return nullptr;
  }
  out = v->get();
  return node;
}

bool TableReader::string(std::string_view key, std::string& out) {
  return find_string(key, out) != nullptr;
}

bool TableReader::string(std::string_view key, bool (*valid)(std::string_view), std::string_view expected,
                         std::string& out) {
  std::string value;
  const toml::node* node = find_string(key, value);
  if (!node) return false;
  if (!valid(value)) {
    problem(*node, key, quoted(value) + " is not " + std::string(expected));
    return false;
  }
  out = std::move(value);
  return true;
}

bool TableReader::duration(std::string_view key, std::chrono::seconds& out, std::chrono::seconds max) {
  // A day bounds every timeout by default: larger values are typos, and keep
  // deadline arithmetic (now() + timeout) far from overflow. Queue ages
  // (give_up_after) pass a larger bound.
  const std::int64_t kMaxSeconds = max.count();
  const toml::node* node = take(key);
  if (!node) return false;
  std::optional<std::chrono::seconds> d;
  if (const auto* i = node->as_integer()) {
    d = std::chrono::seconds(i->get());
  } else if (const auto* s = node->as_string()) {
    d = parse_duration(s->get());
    if (!d) {
      problem(*node, key, quoted(s->get()) + " is not a duration; write e.g. \"30s\", \"5m\" or \"1h\"");
      return false;
    }
  } else {
    wrong_type(*node, key, "an integer (seconds) or a string like \"30s\", \"5m\", \"1h\"");
    return false;
  }
  if (d->count() <= 0 || d->count() > kMaxSeconds) {
    problem(*node, key, "must be more than 0 and at most " + std::to_string(kMaxSeconds) + "s (got " + std::to_string(d->count()) + "s)");
    return false;
  }
  out = *d;
  return true;
}

bool TableReader::size(std::string_view key, std::uint64_t min, std::uint64_t& out) {
  const toml::node* node = take(key);
  if (!node) return false;
  std::uint64_t bytes = 0;
  if (const auto* i = node->as_integer()) {
    if (i->get() < 0) {
      problem(*node, key, "must not be negative");
      return false;
    }
    bytes = static_cast<std::uint64_t>(i->get());
  } else if (const auto* s = node->as_string()) {
    auto parsed = parse_size(s->get());
    if (!parsed) {
      problem(*node, key, quoted(s->get()) + " is not a size; write bytes as an integer, or e.g. \"64K\", \"50M\", \"1G\"");
      return false;
    }
    bytes = *parsed;
  } else {
    wrong_type(*node, key, "an integer (bytes) or a string like \"50M\"");
    return false;
  }
  if (bytes < min) {
    problem(*node, key, std::to_string(bytes) + " is below the minimum " + std::to_string(min));
    return false;
  }
  out = bytes;
  return true;
}

// The loop every string-array reader shares: each entry must be a string,
// handed to add(list, text), which returns a problem text, or "" when it took
// the entry. Problems are reported each at its entry; `out` is replaced only
// when every entry was taken.
template <class List, class Add>
bool TableReader::string_array(std::string_view key, std::string_view expected, std::string_view expected_entry,
                               List& out, Add add) {
  const toml::array* arr = find_array(key, expected);
  if (!arr) return false;
  List list;
  bool ok = true;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& entry = *arr->get(i);
    const std::string entry_name = std::string(key) + "[" + std::to_string(i) + "]";
    const auto* s = entry.as_string();
    if (!s) {
      wrong_type(entry, entry_name, expected_entry);
      ok = false;
    } else if (std::string error = add(list, s->get()); !error.empty()) {
      problem(entry, entry_name, std::move(error));
      ok = false;
    }
  }
  if (ok) out = std::move(list);
  return ok;
}

bool TableReader::networks(std::string_view key, NetworkList& out) {
  return string_array(key, "an array of CIDR strings", "a CIDR string", out,
                      [](NetworkList& list, const std::string& text) -> std::string {
                        if (list.add(text)) return {};
                        return quoted(text) +
                               " is not an IP address or CIDR network (e.g. \"192.0.2.0/24\", \"2001:db8::/32\")";
                      });
}

bool TableReader::strings(std::string_view key, bool (*valid)(std::string_view), std::string_view expected,
                          std::vector<std::string>& out) {
  return string_array(key, "an array of strings", "a string", out,
                      [&](std::vector<std::string>& list, const std::string& text) -> std::string {
                        if (!valid(text)) return quoted(text) + " is not " + std::string(expected);
                        list.push_back(text);
                        return {};
                      });
}

bool TableReader::domains(std::string_view key, std::vector<std::string>& out) {
  return string_array(key, "an array of domain names", "a domain name string", out,
                      [](std::vector<std::string>& list, const std::string& text) -> std::string {
                        if (!is_domain_name(text)) return quoted(text) + " is not a valid domain name";
                        list.push_back(ascii_lower(text));
                        return {};
                      });
}

const toml::array* TableReader::find_array(std::string_view key, std::string_view expected) {
  const toml::node* node = take(key);
  if (!node) return nullptr;
  const auto* arr = node->as_array();
  if (!arr) wrong_type(*node, key, expected);
  return arr;
}

// Both list kinds: "lmdb;/path" lookup items opened now (a problem at the
// entry when one cannot be), the rest handed to add_literal, which returns a
// problem text or "" when it took the entry.
template <class List, class AddLiteral>
bool TableReader::lookup_list(std::string_view key, std::string_view expected, std::string_view expected_entry,
                              bool allow_partial, std::chrono::milliseconds recheck, List& out,
                              AddLiteral add_literal) {
  return string_array(key, expected, expected_entry, out, [&](List& list, const std::string& text) -> std::string {
    if (!is_lookup_item(text)) return add_literal(list, text);
    std::string error;
    auto lookup = open_lookup_item(text, allow_partial, recheck, error);
    if (!lookup) return error;  // open_lookup_item says why on every failure
    list.add_lookup(std::move(*lookup));
    return {};
  });
}

bool TableReader::domain_list(std::string_view key, std::chrono::milliseconds recheck, DomainList& out) {
  return lookup_list(key, "an array of domain names or \"lmdb;/path\" items",
                     "a domain name or \"lmdb;/path\" string", true, recheck, out,
                     [](DomainList& list, const std::string& text) -> std::string {
                       if (!is_domain_name(text)) return quoted(text) + " is not a valid domain name";
                       list.add_domain(text);
                       return {};
                     });
}

bool TableReader::host_list(std::string_view key, std::chrono::milliseconds recheck, HostList& out) {
  return lookup_list(key, "an array of CIDR strings or \"lmdb;/path\" items", "a CIDR string", false, recheck, out,
                     [](HostList& list, const std::string& text) -> std::string {
                       if (list.add(text)) return {};
                       return quoted(text) +
                              " is not an IP address or CIDR network (e.g. \"192.0.2.0/24\", \"2001:db8::/32\") or "
                              "\"lmdb;/path\"";
                     });
}

std::optional<TableReader> TableReader::table(std::string_view key) {
  const toml::node* node = take(key);
  if (!node) return std::nullopt;
  const auto* t = node->as_table();
  if (!t) {
    wrong_type(*node, key, "a table ([" + name(key) + "])");
    return std::nullopt;
  }
  return TableReader(*t, name(key), "[" + name(key) + "]", sink_);
}

const toml::array* TableReader::array_of_tables(std::string_view key) {
  const toml::node* node = take(key);
  if (!node) return nullptr;
  const auto* arr = node->as_array();
  if (!arr || !arr->is_array_of_tables()) {
    // toml++ does not count an empty array as one of tables; whether empty
    // is allowed is the caller's decision.
    if (arr && arr->empty()) return arr;
    wrong_type(*node, key, "an array of tables ([[" + name(key) + "]])");
    return nullptr;
  }
  return arr;
}

void TableReader::finish() {
  for (auto&& [key, node] : table_) {
    const std::string_view k = key.str();
    if (std::find(known_.begin(), known_.end(), k) != known_.end()) continue;
    std::string message;
    if (node.is_table())
      message = "unknown table [" + name(k) + "]";
    else if (node.is_array_of_tables())
      message = "unknown table [[" + name(k) + "]]";
    else
      message = "unknown key " + quoted(k) + " in " + what_;
    for (const auto& candidate : known_)
      if (edit_distance(k, candidate) <= 2) {
        message += " (did you mean " + quoted(candidate) + "?)";
        break;
      }
    sink_.add(key.source(), std::move(message));
  }
}

}  // namespace sluice::gateway
