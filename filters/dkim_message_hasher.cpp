// dkim_message_hasher.cpp — header selection and streaming body hashes
// (RFC 6376 3.7, 5.4, 6.1.3).
#include "filters/dkim_message_hasher.hpp"

#include "filters/dkim_crypto.hpp"
#include "filters/dkim_header_fields.hpp"

namespace sluice::filters {

// One body hash: its algorithm, l= and running count.
struct DkimMessageHasher::BodyHash {
  DkimCanon canon;
  DkimHash hash;
  std::optional<std::uint64_t> limit;
  DkimHasher hasher;
  std::uint64_t hashed = 0;
  std::string digest;

  BodyHash(DkimCanon c, DkimHash h, std::optional<std::uint64_t> l)
      : canon(c), hash(h), limit(l), hasher(h) {}
  void consume(std::string_view bytes) {
    if (limit) {
      const std::uint64_t room = *limit - hashed;
      if (room < bytes.size()) bytes = bytes.substr(0, room);
    }
    hasher.update(bytes);
    hashed += bytes.size();
  }
};

// One canonicalizer feeding every body hash of its kind.
class DkimMessageHasher::CanonFanOut final : public CanonicalSink {
 public:
  explicit CanonFanOut(DkimCanon canon) : canonicalizer_(canon, *this) {}
  void add(BodyHash* target) { targets_.push_back(target); }
  void consume(std::string_view bytes) override {
    for (auto* t : targets_) t->consume(bytes);
  }
  BodyCanonicalizer& canonicalizer() { return canonicalizer_; }
  bool idle() const { return targets_.empty(); }  // no signature uses this canonicalization

 private:
  BodyCanonicalizer canonicalizer_;
  std::vector<BodyHash*> targets_;
};

DkimMessageHasher::~DkimMessageHasher() = default;

DkimMessageHasher::DkimMessageHasher(DkimLimits limits)
    : limits_(limits), splitter_(limits.max_header_bytes) {}

void DkimMessageHasher::feed(std::string_view bytes) {
  if (finished_) return;
  const bool had_header = splitter_.header_done();
  auto body = splitter_.feed(bytes);
  if (!had_header && splitter_.header_done()) {
    end_of_header(splitter_.header_block());
    splitter_.release_header();
  }
  feed_body(body.body_from_buffer);
  feed_body(body.body_from_piece);
}

void DkimMessageHasher::end_of_header(std::string_view block) {
  const auto fields = split_header_fields(block);
  simple_ = std::make_unique<CanonFanOut>(DkimCanon::simple);
  relaxed_ = std::make_unique<CanonFanOut>(DkimCanon::relaxed);
  for (const auto& f : fields)
    if (header_name_equals(f.name, "DKIM-Signature")) add_signature(fields, f);
}

void DkimMessageHasher::add_signature(const std::vector<HeaderField>& fields,
                                      const HeaderField& field) {
  DkimHashedSignature out;
  if (signatures_.size() >= limits_.max_signatures) {
    out.checked = false;
    signatures_.push_back(std::move(out));
    body_hash_of_.push_back(SIZE_MAX);
    return;
  }
  const std::size_t colon = field.raw.find(':');
  auto parsed = parse_dkim_signature(field.raw.substr(colon + 1));
  if (!parsed.signature) {
    out.error = std::move(parsed.error);
    signatures_.push_back(std::move(out));
    body_hash_of_.push_back(SIZE_MAX);
    return;
  }
  const DkimSignature& sig = *parsed.signature;
  const DkimHash hash = hash_of(sig.algorithm);

  // RFC 6376 3.7: the selected fields, canonicalized, then this field with
  // b= emptied and without its final CRLF.
  DkimHasher header_hasher(hash);
  for (const HeaderField* f : select_signed_fields(fields, sig.signed_headers))
    if (f) header_hasher.update(canonical_header(*f, sig.header_canon));
  std::string self = canonical_header(without_b_value(field.raw), sig.header_canon);
  self.resize(self.size() - 2);
  header_hasher.update(self);
  out.header_hash = header_hasher.digest();

  // Share a body hash with an earlier signature that needs the same one.
  std::size_t index = SIZE_MAX;
  for (std::size_t i = 0; i < body_hashes_.size(); ++i) {
    const auto& b = *body_hashes_[i];
    if (b.canon == sig.body_canon && b.hash == hash && b.limit == sig.body_length) index = i;
  }
  if (index == SIZE_MAX) {
    body_hashes_.push_back(std::make_unique<BodyHash>(sig.body_canon, hash, sig.body_length));
    index = body_hashes_.size() - 1;
    (sig.body_canon == DkimCanon::simple ? simple_ : relaxed_)->add(body_hashes_.back().get());
  }
  out.signature = std::move(parsed.signature);
  signatures_.push_back(std::move(out));
  body_hash_of_.push_back(index);
}

void DkimMessageHasher::feed_body(std::string_view bytes) {
  if (bytes.empty() || body_hashes_.empty()) return;
  for (auto* fan : {simple_.get(), relaxed_.get()})
    if (!fan->idle()) fan->canonicalizer().write(bytes);
}

void DkimMessageHasher::finish() {
  if (finished_) return;
  finished_ = true;
  if (splitter_.too_large()) return;
  if (!splitter_.header_done()) {
    // A message with no empty line is all header and an empty body.
    splitter_.finish();
    end_of_header(splitter_.header_block());
    splitter_.release_header();
  }
  if (!body_hashes_.empty())
    for (auto* fan : {simple_.get(), relaxed_.get()})
      if (!fan->idle()) fan->canonicalizer().finish();
  for (auto& b : body_hashes_) b->digest = b->hasher.digest();
  for (std::size_t i = 0; i < signatures_.size(); ++i) {
    if (body_hash_of_[i] == SIZE_MAX) continue;
    signatures_[i].body_hash = body_hashes_[body_hash_of_[i]]->digest;
    signatures_[i].body_bytes = body_hashes_[body_hash_of_[i]]->hashed;
  }
}

}  // namespace sluice::filters
