// queue_command.hpp — `sluice queue`: look at and act on the queue, safe
// while the gateway runs (LMDB readers never block it; the few writes take
// LMDB's writer lock between the gateway's group commits).
//
//   sluice queue [--config FILE | --spool DIR] [--json] COMMAND
//     list            like `exim -bp`: age, size, id, sender, then recipients
//                     (D = delivered, F = failed); --json: one object a line,
//                     --data adds the stored message as data_b64
//     count           number of messages in the queue (any state)
//     show ID         the record (envelope, state, per-recipient progress)
//     headers ID      the message's header block, as stored
//     body ID         the body (after the blank line), as stored
//     retry ID        make a deferred message due now
//     delete ID       remove the message and its body
//     flush           make every deferred message due now
// Exit status: 0 done, 1 no such message or the spool cannot be opened, 2 usage.
#pragma once
#include <string>
#include <vector>

namespace sluice::gateway {

int queue_command(const std::vector<std::string>& args);

}  // namespace sluice::gateway
