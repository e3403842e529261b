// message_source.hpp — a stored message read in pieces, so that exporting a
// 50 MB message never holds more than one piece in memory.
//
// A MessageSource calls `sink` with successive chunks of the message, in
// order, and returns the first error (its own or the sink's, which stops the
// reading). It may be called more than once; each call starts from the first
// byte again. Runs on whatever thread calls it: the file source blocks, so
// call it from the blocking pool, never from an event loop.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

namespace sluice::storage {

using ChunkSink = std::function<std::error_code(std::string_view chunk)>;
using MessageSource = std::function<std::error_code(const ChunkSink& sink)>;

// The bytes of `message`, in chunks of at most `chunk_size`. The caller keeps
// the viewed bytes alive while the source is used.
MessageSource string_source(std::string_view message, std::size_t chunk_size = 64 * 1024);

// `length` bytes of the file at `path` from `offset`, read with pread in
// `chunk_size` pieces into one reused buffer. A file shorter than
// offset + length is an error (EIO: the spool lost data), not a short message.
MessageSource file_source(std::string path, std::uint64_t offset, std::uint64_t length,
                          std::size_t chunk_size = 64 * 1024);

// `added` (header lines the filters put on top, Envelope::added_headers),
// then the stored message. The caller keeps `added` alive while it is used.
MessageSource with_added_headers(std::string_view added, MessageSource stored);

}  // namespace sluice::storage
