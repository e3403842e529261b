// config_values.hpp — the building blocks of config_loader.cpp: parsers for
// durations, sizes and domain names, a sink that collects problems with
// their position, and TableReader, which reads typed, range-checked values
// out of one TOML table.
//
// Contract: a reader never stops at the first problem. Every bad value is
// reported (file, line, column, dotted key name, what was expected) and the
// target keeps its default, so one pass over a file finds all its mistakes.
// A key the reader was never asked about is reported by finish() as unknown:
// the set of keys a table accepts is exactly the set its read function asks
// for, so the schema cannot drift from the code that applies it.
//
// Internal to gateway/: includes toml++, which config_loader.hpp keeps out
// of the rest of the program.
#pragma once
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include "gateway/config_loader.hpp"
#include "gateway/domain_list.hpp"
#include "gateway/host_list.hpp"
#include "gateway/network_list.hpp"

namespace sluice::gateway {

// "30s", "5m", "1h": digits and one unit. A bare number in a string is
// refused (is "30" seconds or minutes?); TOML integers are seconds.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// "64K", "50M", "1G": digits and a binary multiplier (1024-based), either
// case. Overflow gives nullopt. TOML integers are bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);

// RFC 1035 2.3.1 host name syntax (letters, digits, inner hyphens; labels of
// 1..63 octets; at most 253 octets; no trailing dot). Single labels such as
// "localhost" pass. Only ASCII: IDNs are written as A-labels ("xn--...").
bool is_domain_name(std::string_view text);

std::string ascii_lower(std::string_view text);

// The machine's host name (gethostname), or "localhost" when that is not a
// valid domain name.
std::string machine_hostname();

class ProblemSink {
 public:
  explicit ProblemSink(std::string file) : file_(std::move(file)) {}
  void add(const toml::source_region& where, std::string message);
  void add_without_position(std::string message);
  std::size_t count() const;
  // All problems, ordered by position in the file.
  std::vector<ConfigProblem> take_sorted();

 private:
  std::string file_;
  std::vector<ConfigProblem> problems_;
};

class TableReader {
 public:
  // path: dotted name of the table for messages ("" for the top level,
  // "limits", "listener[1]"); what: how to name it in "unknown key" messages.
  TableReader(const toml::table& table, std::string path, std::string what, ProblemSink& sink);

  // Each reader marks the key as known, leaves `out` untouched when the key is
  // absent or its value bad, and returns true only when it stored a value.
  bool integer(std::string_view key, std::int64_t min, std::int64_t max, std::int64_t& out);
  template <class T>
  bool integer(std::string_view key, std::int64_t min, std::int64_t max, T& out) {
    std::int64_t v = 0;
    if (!integer(key, min, max, v)) return false;
    out = static_cast<T>(v);
    return true;
  }
  bool boolean(std::string_view key, bool& out);
  bool string(std::string_view key, std::string& out);
  // A string that must pass `valid`; else "\"value\" is not <expected>".
  bool string(std::string_view key, bool (*valid)(std::string_view), std::string_view expected, std::string& out);
  bool duration(std::string_view key, std::chrono::seconds& out,
                std::chrono::seconds max = std::chrono::seconds(24 * 3600));
  bool size(std::string_view key, std::uint64_t min, std::uint64_t& out);
  template <class T>
  bool size(std::string_view key, std::uint64_t min, T& out) {
    std::uint64_t v = 0;
    if (!size(key, min, v)) return false;
    out = static_cast<T>(v);
    return true;
  }
  // One of a fixed set of words, e.g. {{"logfmt", LogFormat::logfmt}, ...}.
  template <class E>
  bool choice(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> words, E& out) {
    std::string word;
    const toml::node* node = find_string(key, word);
    if (!node) return false;
    for (const auto& [w, e] : words)
      if (w == word) {
        out = e;
        return true;
      }
    std::string allowed;
    for (const auto& [w, e] : words) allowed += (allowed.empty() ? "\"" : ", \"") + std::string(w) + "\"";
    problem(*node, key, "\"" + word + "\" is not one of " + allowed);
    return false;
  }
  // Replaces `out` with the listed networks; entries that are not CIDR are
  // reported each by its index and position.
  bool networks(std::string_view key, NetworkList& out);
  // Replaces `out` with the listed strings, each of which must pass `valid`.
  bool strings(std::string_view key, bool (*valid)(std::string_view), std::string_view expected,
               std::vector<std::string>& out);
  // Replaces `out` with the listed domain names, lower-cased.
  bool domains(std::string_view key, std::vector<std::string>& out);
  // Domain names and "lmdb;/path" lookup items; each lookup file is opened
  // now, and a missing or unreadable one is a problem at its entry.
  bool domain_list(std::string_view key, std::chrono::milliseconds recheck, DomainList& out);
  // CIDR entries and "lmdb;/path" lookup items, likewise.
  bool host_list(std::string_view key, std::chrono::milliseconds recheck, HostList& out);

  // A sub-table; nullopt when absent or not a table (then reported).
  std::optional<TableReader> table(std::string_view key);
  // An array whose elements must all be tables ([[key]]); nullptr when absent
  // or of the wrong type (then reported).
  const toml::array* array_of_tables(std::string_view key);

  // Reports every key of the table that no reader above asked for.
  void finish();

  // "limits.max_recipients", "listener[0].port", "workers".
  std::string name(std::string_view key) const;
  // Reports "<name(key)>: <message>" at the node's position.
  void problem(const toml::node& at, std::string_view key, std::string message);
  const toml::table& toml_table() const { return table_; }
  ProblemSink& sink() { return sink_; }

 private:
  const toml::node* take(std::string_view key);
  const toml::node* find_string(std::string_view key, std::string& out);
  const toml::array* find_array(std::string_view key, std::string_view expected);
  void wrong_type(const toml::node& at, std::string_view key, std::string_view expected);
  template <class List, class Add>
  bool string_array(std::string_view key, std::string_view expected, std::string_view expected_entry, List& out,
                    Add add);
  template <class List, class AddLiteral>
  bool lookup_list(std::string_view key, std::string_view expected, std::string_view expected_entry,
                   bool allow_partial, std::chrono::milliseconds recheck, List& out, AddLiteral add_literal);

  const toml::table& table_;
  std::string path_;
  std::string what_;
  ProblemSink& sink_;
  std::vector<std::string> known_;
};

}  // namespace sluice::gateway
