#include "protocol/input_buffer.hpp"

#include <cstring>

namespace sluice::protocol {

std::span<char> InputBuffer::prepare(std::size_t n) {
  compact();
  data_.resize(committed_ + n);
  return {data_.data() + committed_, n};
}

void InputBuffer::commit(std::size_t n) {
  committed_ += n;
  data_.resize(committed_);
}

void InputBuffer::consume(std::size_t n) {
  pos_ += n;
  if (pos_ >= data_.size()) clear();
}

void InputBuffer::clear() {
  data_.clear();
  pos_ = committed_ = 0;
}

void InputBuffer::release() {
  clear();
  std::string().swap(data_);
}

void InputBuffer::compact() {
  if (pos_ == 0) return;
  data_.erase(0, pos_);
  committed_ -= pos_;
  pos_ = 0;
  // Give memory back after a large burst (e.g. a BDAT chunk read through us).
  if (data_.capacity() > 64 * 1024 && data_.size() < 16 * 1024) data_.shrink_to_fit();
}

LineResult InputBuffer::next_line(std::size_t max_line) {
  std::string_view rest = peek();
  const void* lf = std::memchr(rest.data(), '\n', rest.size());
  if (skipping_) {
    if (!lf) {
      clear();  // still inside the overlong line: drop it all
      return {LineStatus::need_more, {}};
    }
    std::size_t n = static_cast<const char*>(lf) - rest.data() + 1;
    consume(n);
    skipping_ = false;
    return {LineStatus::overlong, {}};
  }
  if (!lf) {
    if (rest.size() >= max_line) {
      skipping_ = true;
      clear();
    }
    return {LineStatus::need_more, {}};
  }
  std::size_t n = static_cast<const char*>(lf) - rest.data() + 1;
  if (n > max_line) {
    consume(n);
    return {LineStatus::overlong, {}};
  }
  std::string_view line = rest.substr(0, n - 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ += n;  // not consume(): the view must stay valid until the next call
  return {LineStatus::line, line};
}

}  // namespace sluice::protocol
