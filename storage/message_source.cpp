#include "storage/message_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace sluice::storage {

MessageSource string_source(std::string_view message, std::size_t chunk_size) {
  return [message, chunk_size](const ChunkSink& sink) -> std::error_code {
    for (std::size_t pos = 0; pos < message.size(); pos += chunk_size)
      if (auto ec = sink(message.substr(pos, chunk_size))) return ec;
    return {};
  };
}

MessageSource with_added_headers(std::string_view added, MessageSource stored) {
  if (added.empty()) return stored;
  return [added, stored = std::move(stored)](const ChunkSink& sink) -> std::error_code {
    if (auto ec = sink(added)) return ec;
    return stored(sink);
  };
}

MessageSource file_source(std::string path, std::uint64_t offset, std::uint64_t length,
                          std::size_t chunk_size) {
  return [path = std::move(path), offset, length, chunk_size](const ChunkSink& sink) -> std::error_code {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {errno, std::generic_category()};
    std::unique_ptr<char[]> buffer(new char[chunk_size]);
    std::error_code ec;
    std::uint64_t done = 0;
    while (!ec && done < length) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size, length - done));
      const ssize_t n = ::pread(fd, buffer.get(), want, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        ec = {errno, std::generic_category()};
      } else if (n == 0) {
        ec = std::make_error_code(std::errc::io_error);
      } else {
        done += static_cast<std::uint64_t>(n);
        ec = sink(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
      }
    }
    ::close(fd);
    return ec;
  };
}

}  // namespace sluice::storage
