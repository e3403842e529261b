// dkim_signer.cpp — RFC 6376 5.4-5.6: body hash, header hash, signature.
#include "filters/dkim_signer.hpp"

#include "filters/dkim_base64.hpp"
#include "filters/dkim_header_fields.hpp"

namespace sluice::filters {
namespace {

constexpr std::size_t kFoldColumn = 78;

// Appends `piece` to `field`, folding (CRLF SP) first when the current
// line would pass the column limit.
void append_folded(std::string& field, std::string_view separator, std::string_view piece) {
  const std::size_t line_start = field.rfind('\n') == std::string::npos ? 0 : field.rfind('\n') + 1;
  const std::size_t column = field.size() - line_start;
  if (column + separator.size() + piece.size() > kFoldColumn && column > 1) {
    std::string_view sep = separator;
    while (!sep.empty() && sep.back() == ' ') sep.remove_suffix(1);
    field += sep;
    field += "\r\n ";
  } else {
    field += separator;
  }
  field += piece;
}

}  // namespace

void DkimSigner::BodySink::consume(std::string_view bytes) {
  if (limit && *limit - hashed < bytes.size()) bytes = bytes.substr(0, *limit - hashed);
  hasher.update(bytes);
  hashed += bytes.size();
}

DkimSigner::DkimSigner(const DkimPrivateKey& key, DkimSignRequest request)
    : key_(key),
      request_(std::move(request)),
      splitter_(request_.max_header_bytes),
      body_sink_(hash_of(request_.algorithm), request_.body_length),
      body_(request_.body_canon, body_sink_) {}

void DkimSigner::feed(std::string_view bytes) {
  auto body = splitter_.feed(bytes);
  body_.write(body.body_from_buffer);
  body_.write(body.body_from_piece);
}

std::string DkimSigner::field_without_b(const std::string& bh) const {
  const DkimSignRequest& r = request_;
  std::string field = "DKIM-Signature: v=1";
  append_folded(field, "; ", "a=" + std::string(to_string(r.algorithm)));
  append_folded(field, "; ", std::string("c=") + (r.header_canon == DkimCanon::relaxed ? "relaxed" : "simple") +
                                 "/" + (r.body_canon == DkimCanon::relaxed ? "relaxed" : "simple"));
  append_folded(field, "; ", "d=" + r.domain);
  if (r.identity) append_folded(field, "; ", "i=" + *r.identity);
  if (r.with_query_method) append_folded(field, "; ", "q=dns/txt");
  append_folded(field, "; ", "s=" + r.selector);
  if (r.timestamp) append_folded(field, "; ", "t=" + std::to_string(*r.timestamp));
  if (r.expiration) append_folded(field, "; ", "x=" + std::to_string(*r.expiration));
  if (r.body_length) append_folded(field, "; ", "l=" + std::to_string(*r.body_length));
  for (std::size_t i = 0; i < r.headers.size(); ++i)
    append_folded(field, i == 0 ? "; " : r.header_separator, (i == 0 ? "h=" : "") + r.headers[i]);
  append_folded(field, "; ", "bh=" + bh);
  append_folded(field, "; ", "b=");
  return field;
}

std::optional<std::string> DkimSigner::finish() {
  splitter_.finish();
  body_.finish();
  if (splitter_.too_large()) {
    error_ = "header over the limit";
    return std::nullopt;
  }
  if (key_.type() != key_type_of(request_.algorithm)) {
    error_ = "key type does not match the algorithm";
    return std::nullopt;
  }
  if (request_.body_length && body_sink_.hashed < *request_.body_length) {
    error_ = "l= is longer than the body";
    return std::nullopt;
  }
  const std::string bh = base64_encode(body_sink_.hasher.digest());
  const std::string unsigned_field = field_without_b(bh);

  // RFC 6376 5.4.2 / 3.7: the h= fields bottom-up, then this field with an
  // empty b= and no final CRLF.
  const auto fields = split_header_fields(splitter_.header_block());
  DkimHasher header_hash(hash_of(request_.algorithm));
  for (const HeaderField* f : select_signed_fields(fields, [&] {
         std::vector<std::string> lower;
         for (const auto& h : request_.headers) lower.push_back(to_lower(h));
         return lower;
       }()))
    if (f) header_hash.update(canonical_header(*f, request_.header_canon));
  std::string self = canonical_header(unsigned_field, request_.header_canon);
  self.resize(self.size() - 2);
  header_hash.update(self);

  auto signature = key_.sign(request_.algorithm, header_hash.digest());
  if (!signature) {
    error_ = "signing failed";
    return std::nullopt;
  }
  std::string field = unsigned_field;
  const std::string b = base64_encode(*signature);
  // Fold b= in pieces so no line passes the column limit.
  std::size_t line_start = field.rfind('\n') == std::string::npos ? 0 : field.rfind('\n') + 1;
  for (std::size_t i = 0; i < b.size();) {
    std::size_t room = field.size() - line_start >= kFoldColumn ? 0 : kFoldColumn - (field.size() - line_start);
    if (room == 0) {
      field += "\r\n ";
      line_start = field.size() - 1;
      continue;
    }
    field += b.substr(i, room);
    i += room;
  }
  field += "\r\n";
  return field;
}

}  // namespace sluice::filters
