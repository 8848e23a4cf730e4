#include "decide/cookie_set.h"

#include <algorithm>

namespace tcpreap {

namespace {

// The kernel hands cookies out in sequence (sock_gen_cookie()): mix the bits
// (MurmurHash3's finalizer) so that neighbours do not cluster.
size_t slot_of(uint64_t cookie, size_t mask) {
  cookie ^= cookie >> 33;
  cookie *= 0xff51afd7ed558ccdULL;
  cookie ^= cookie >> 33;
  cookie *= 0xc4ceb9fe1a85ec53ULL;
  cookie ^= cookie >> 33;
  return static_cast<size_t>(cookie) & mask;
}

constexpr size_t kFirstSlots = 64;

}  // namespace

void CookieSet::clear() {
  size_ = 0;
  if (++generation_ == 0) {
    // After 2^32 - 1 scans: no stale stamp may look current.
    std::fill(slots_.begin(), slots_.end(), Slot{});
    generation_ = 1;
  }
}

bool CookieSet::insert(uint64_t cookie) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = slot_of(cookie, mask);; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.generation != generation_) {
      s = Slot{cookie, generation_};
      ++size_;
      return true;
    }
    if (s.cookie == cookie) return false;
  }
}

void CookieSet::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max(kFirstSlots, old.size() * 2), Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.generation != generation_) continue;
    size_t i = slot_of(s.cookie, mask);
    while (slots_[i].generation == generation_) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace tcpreap
