// envelope.hpp — what the spool keeps beside each message: who sent it, to
// whom, and the facts of the session it came in on.
//
// Plain strings only: storage/ never parses SMTP. DSN parameters (RFC 3461)
// are kept as received (decoded from xtext) so that a later delivery or bounce
// can honour them. Serialised as one JSON object (append_envelope_json), the
// part of each queue record (storage/queue_record.hpp) that is the envelope.
// The output is always valid UTF-8 JSON: a byte that is not part of
// well-formed UTF-8 (XCLIENT LOGIN may carry any) is written as \u00XX.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::storage {

struct EnvelopeRecipient {
  std::string address;      // local@domain, no angle brackets
  unsigned notify = 0;      // RFC 3461 NOTIFY bitmask: never=1 success=2 failure=4 delay=8
  std::string orcpt;        // "rfc822;addr" decoded, empty if none
};

struct Envelope {
  std::string id;                 // queue id, Exim-shaped
  std::string sender;             // empty for the null reverse path <>
  std::vector<EnvelopeRecipient> recipients;
  std::int64_t received_at = 0;   // unix seconds
  std::uint64_t size = 0;         // bytes of message data as stored (with our Received header)
  std::string body_type;          // "7BIT", "8BITMIME", "BINARYMIME" or ""
  bool smtputf8 = false;
  std::string ret;                // "FULL", "HDRS" or ""
  std::string envid;
  bool requiretls = false;
  // Session facts
  std::string helo;
  std::string protocol;           // "smtp", "esmtp", "esmtpa", "utf8esmtp", ...
  std::string client_addr;        // effective client (after XCLIENT / PROXY)
  std::uint16_t client_port = 0;
  std::string client_name;
  std::string proxy_addr;         // the front end that told us, when one did
  std::string origin;             // "", "proxy" or "xclient"
  std::string login;              // XCLIENT LOGIN
  // Header fields the filters added (Authentication-Results, Received-SPF),
  // each line ending CRLF. Kept apart from the stored data, which was written
  // while the message streamed in, and put in front of it by everything that
  // reads the message (with_added_headers()).
  std::string added_headers;
  // Set by a policy `quarantine` rule: the whole message goes to this
  // directory as a queuefile pair instead of being routed.
  std::string quarantine_directory;
};

// For records that extend the envelope's object (the queue's, storage/
// queue_record.hpp) in the same single pass: members appended after each
// recipient's own and after the envelope's, written with json_member().
struct EnvelopeJsonExtras {
  std::function<void(std::string& out, std::size_t recipient)> recipient;
  std::function<void(std::string& out)> object;
};
// The envelope's object, "{...}" with no line end, and the extras in it.
void append_envelope_json(std::string& out, const Envelope& e, const EnvelopeJsonExtras& extras);
// ,"key":"value" and ,"key":number, escaped as to_json escapes.
void json_member(std::string& out, std::string_view key, std::string_view value);
void json_member(std::string& out, std::string_view key, std::int64_t value);
// Does `s` read back from our JSON byte for byte? Not when it holds a byte
// outside well-formed UTF-8, which is written as the code point of its value.
bool json_keeps_bytes(std::string_view s);

}  // namespace sluice::storage
