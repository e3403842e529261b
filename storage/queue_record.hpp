// queue_record.hpp — what the queue keeps for each committed message: its
// envelope, where it is in its life, and what happened to each recipient.
//
// States (a message):
//   queued      committed, waiting for the queue runner (or, for recipients
//               routed to relay, for the relay issue's delivery agent)
//   delivering  the runner has it; on restart this goes back to queued
//   deferred    an attempt failed temporarily; next_retry says when again
//   done        every recipient delivered or discarded; the body is gone and
//               the record is purged after queue.keep_done
//   bounced     some recipient failed permanently or gave up (retry.give_up)
// "incoming" (being received) never reaches the queue: until the commit the
// message exists only in the session's memory or a spill file.
// Serialised as one JSON object (the envelope's to_json fields plus these):
// readable by `sluice queue show --json` and stable across versions. A login
// that is not valid UTF-8 is also kept exactly as "login_hex" (lower-case
// hex of its bytes), since "login" shows such bytes as Latin-1 code points.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/envelope.hpp"

namespace sluice::storage {

enum class MessageState { queued, delivering, deferred, done, bounced };
enum class RecipientState { pending, delivered, deferred, failed };
enum class BodyPlace { inline_value, file };

std::string_view name_of(MessageState s);
std::string_view name_of(RecipientState s);
std::optional<MessageState> message_state_from(std::string_view s);

struct RecipientProgress {
  RecipientState state = RecipientState::pending;
  std::string route;       // route name that took it, once routed
  std::string last_error;  // text of the last failure
};

struct QueueRecord {
  Envelope envelope;
  MessageState state = MessageState::queued;
  BodyPlace body = BodyPlace::inline_value;
  std::int64_t next_retry = 0;    // unix seconds; 0: now
  std::int64_t updated_at = 0;
  std::uint32_t attempts = 0;
  std::vector<RecipientProgress> progress;  // one per envelope.recipients

  // Fills progress to match the recipients (all pending).
  void start_progress();
  bool all_recipients_final() const;
};

std::string to_json(const QueueRecord& r);
// The message's state without parsing the whole record (queue-size metrics
// scan every record at each scrape). Relies on to_json writing the message's
// "state" after the recipients, whose own "state" keys come first.
std::optional<MessageState> peek_state(std::string_view json);
// Parses what to_json wrote; nullopt (never a throw) for anything else.
std::optional<QueueRecord> queue_record_from_json(std::string_view text);

}  // namespace sluice::storage
