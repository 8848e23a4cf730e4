#pragma once
// Heap allocations, counted by replacing the global operator new. Include in
// exactly one file of a test binary: the replacement is for that binary only.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace tcpreap::test {
inline std::atomic<uint64_t> g_allocations{0};
inline uint64_t allocations() { return g_allocations.load(); }
}  // namespace tcpreap::test

void* operator new(size_t n) {
  ++tcpreap::test::g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC pairs the inlined malloc above with these frees and, seeing
// `operator new`, warns of a mismatch that is not one.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them):
// every block this binary frees must come from the same malloc, or
// AddressSanitizer reports an alloc-dealloc mismatch.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  ++tcpreap::test::g_allocations;
  return std::malloc(n ? n : 1);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
