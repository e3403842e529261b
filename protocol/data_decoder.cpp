#include "protocol/data_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::protocol {

DataDecoder::DataDecoder(BareLineEnding mode, std::size_t max_line_length)
    : mode_(mode), max_line_length_(max_line_length) {}

void DataDecoder::reset() {
  state_ = State::line_start;
  line_length_ = 0;
  longest_line_ = 0;
  message_bytes_ = 0;
  saw_bare_cr_ = saw_bare_lf_ = saw_overlong_ = saw_nul_ = false;
}

std::size_t DataDecoder::longest_line() const {
  return line_length_ == 0 ? longest_line_ : std::max(longest_line_, line_length_ + 2);
}

// Checked as bytes arrive, not only at the line's end, so the session learns
// of an overlong line while it is still streaming in.
void DataDecoder::note_line_bytes(std::size_t n) {
  if (n == 0) return;
  line_length_ += n;
  if (line_length_ + 2 > max_line_length_) saw_overlong_ = true;
}

void DataDecoder::end_line() {
  longest_line_ = std::max(longest_line_, line_length_ + 2);
  if (longest_line_ > max_line_length_) saw_overlong_ = true;
  line_length_ = 0;
}

// A bare CR or LF ends the line for length accounting, but the next line did
// not start after a real CRLF, so the caller continues in State::in_line.
void DataDecoder::note_bare(char c) {
  (c == '\r' ? saw_bare_cr_ : saw_bare_lf_) = true;
  end_line();
}

DataDecoder::Step DataDecoder::feed(std::string_view in, std::string& out) {
  if (state_ == State::done) return {0, true};
  const bool normalize = mode_ == BareLineEnding::normalize;
  const std::size_t out_start = out.size();
  const char* const first = in.data();
  const char* const last = first + in.size();
  const char* p = first;
  // [run, p) is message content still to be copied unchanged: clean lines are
  // appended in one piece, and a copy is cut only where a byte is dropped
  // (a stuffed dot, a held byte) or rewritten (a normalised bare ending).
  const char* run = first;
  auto flush = [&] {
    out.append(run, static_cast<std::size_t>(p - run));
    run = p;
  };
  // The next LF at or after p (or `last`), kept between lines so that a run
  // of bare CRs does not rescan the rest of the chunk each time.
  const char* next_lf = nullptr;

  while (p != last) {
    switch (state_) {
      case State::line_start:
        // RFC 5321 4.5.2: only here may a "." be stuffing or the end marker.
        if (*p == '.') {
          flush();
          run = ++p;
          state_ = State::dot;
        } else {
          state_ = State::in_line;
        }
        break;

      case State::dot:
        if (*p == '\r') {
          run = ++p;
          state_ = State::dot_cr;
        } else {
          // The line is more than "." CRLF, so its first dot is dropped
          // (RFC 5321 4.5.2); *p is then an ordinary first byte, even a bare LF.
          state_ = State::in_line;
        }
        break;

      case State::dot_cr:
        if (*p == '\n') {
          // CR LF "." CR LF: RFC 5321 4.1.1.4. Nothing after it is ours.
          ++p;
          state_ = State::done;
          message_bytes_ += out.size() - out_start;
          return {static_cast<std::size_t>(p - first), true};
        }
        // "." then a bare CR: not the end (SMTP smuggling), the dot is
        // stuffing, the CR a bare line ending; *p starts the next line.
        note_bare('\r');
        out += normalize ? "\r\n" : "\r";
        state_ = State::in_line;
        break;

      case State::in_line_cr:  // a CR held from the end of the previous chunk
        if (*p == '\n') {
          out += "\r\n";
          run = ++p;
          end_line();
          state_ = State::line_start;
        } else {
          note_bare('\r');
          out += normalize ? "\r\n" : "\r";
          state_ = State::in_line;
        }
        break;

      case State::in_line: {
        if (next_lf == nullptr || next_lf < p) {
          const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(last - p));
          next_lf = lf ? static_cast<const char*>(lf) : last;
        }
        const void* cr = std::memchr(p, '\r', static_cast<std::size_t>(next_lf - p));
        const char* stop = cr ? static_cast<const char*>(cr) : next_lf;
        const auto n = static_cast<std::size_t>(stop - p);
        if (!saw_nul_ && std::memchr(p, '\0', n) != nullptr) saw_nul_ = true;
        note_line_bytes(n);
        p = stop;
        if (p == last) break;
        if (*p == '\n') {  // an LF with no CR before it
          note_bare('\n');
          if (normalize) {
            flush();
            out += "\r\n";
            run = p + 1;
          }
          ++p;
        } else if (p + 1 == last) {  // a CR as the chunk's last byte: wait for the next
          flush();
          run = ++p;
          state_ = State::in_line_cr;
        } else if (p[1] == '\n') {  // CRLF: stays in the run
          p += 2;
          end_line();
          state_ = State::line_start;
        } else {  // a CR with no LF after it
          note_bare('\r');
          if (normalize) {
            flush();
            out += "\r\n";
            run = p + 1;
          }
          ++p;
        }
        break;
      }

      case State::done:
        break;  // unreachable: checked on entry and returned from above
    }
  }
  flush();
  message_bytes_ += out.size() - out_start;
  return {in.size(), false};
}

}  // namespace sluice::protocol
