#pragma once
// The socket cookies one scan has seen, to tell a socket the dump lists
// twice from two sockets. clear() forgets them all in O(1), and once the set
// has held as many cookies as a scan brings, insert() allocates nothing: no
// allocation per socket on the scan path. Open addressing with linear
// probing in one vector, each slot stamped with the generation that filled
// it (clearing starts a new generation). Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tcpreap {

class CookieSet {
 public:
  // Forgets every cookie; keeps the memory.
  void clear();
  // Adds `cookie`: true if it is new, false if the set has it already.
  bool insert(uint64_t cookie);
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t cookie = 0;
    uint32_t generation = 0;  // 0: never filled
  };
  void grow();

  std::vector<Slot> slots_;  // a power of two long, at most half full
  uint32_t generation_ = 1;  // the slots of this generation hold the set
  size_t size_ = 0;
};

}  // namespace tcpreap
