// input_buffer.hpp — bytes read from the client, waiting to be parsed.
//
// Sans-I/O: the connection reads into prepare()/commit(); the parser takes
// complete command lines with next_line() or raw bytes with peek()/consume().
// Bounded: a command line longer than the limit is not buffered; its bytes are
// skipped up to the next LF and reported once as `overlong`, so the dialogue
// stays in sync (RFC 5321 4.5.3.1.4; Postfix does the same). Commands may end
// in CRLF or a bare LF (CR stripped): the strict CRLF rule that defeats
// smuggling applies to DATA, where it matters (protocol/data_decoder.hpp).
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace sluice::protocol {

enum class LineStatus { line, need_more, overlong };

struct LineResult {
  LineStatus status = LineStatus::need_more;
  std::string_view line;  // without CRLF; valid until the next call that changes the buffer
};

class InputBuffer {
 public:
  // Space for a read of up to n bytes; call commit() with what was read.
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t n);

  LineResult next_line(std::size_t max_line);  // max_line counts the CRLF
  std::string_view peek() const { return std::string_view(data_).substr(pos_); }
  void consume(std::size_t n);
  std::size_t size() const { return data_.size() - pos_; }
  bool empty() const { return size() == 0; }
  // Drops everything unread (STARTTLS: plaintext pipelined behind it is discarded).
  void clear();
  // Empty and give the memory back: an idle session keeps no buffer.
  void release();

 private:
  void compact();
  std::string data_;
  std::size_t pos_ = 0;
  std::size_t committed_ = 0;  // bytes in data_ that are real input
  bool skipping_ = false;      // inside an overlong line, dropping to LF
};

}  // namespace sluice::protocol
