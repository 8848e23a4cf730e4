#pragma once
// Heap allocations, counted by replacing the global operator new in all its
// forms (plain, array, aligned, nothrow): a form left to the library would
// allocate uncounted - under ASan, whose own operator new[] and aligned new
// take over, even `new T[n]` would. Include in exactly one file of a test
// binary: the replacement is for that binary only. A test that asserts zero
// allocations needs a canary showing the count sees the code it measures.
//
// Every block comes from malloc or aligned_alloc and goes back through free:
// AddressSanitizer reports an alloc-dealloc mismatch otherwise.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace tcpreap::test {
inline std::atomic<uint64_t> g_allocations{0};
inline uint64_t allocations() { return g_allocations.load(); }

// Counts one allocation; nullptr when malloc fails.
inline void* counted_alloc(size_t n, size_t align = 0) noexcept {
  ++g_allocations;
  if (n == 0) n = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(align, (n + align - 1) / align * align);  // a multiple of the alignment
}
inline void* counted_alloc_or_throw(size_t n, size_t align = 0) {
  if (void* p = counted_alloc(n, align)) return p;
  throw std::bad_alloc();
}
}  // namespace tcpreap::test

void* operator new(size_t n) { return tcpreap::test::counted_alloc_or_throw(n); }
void* operator new[](size_t n) { return tcpreap::test::counted_alloc_or_throw(n); }
void* operator new(size_t n, std::align_val_t a) {
  return tcpreap::test::counted_alloc_or_throw(n, static_cast<size_t>(a));
}
void* operator new[](size_t n, std::align_val_t a) {
  return tcpreap::test::counted_alloc_or_throw(n, static_cast<size_t>(a));
}
// The nothrow forms too (std::stable_sort's temporary buffer uses them).
void* operator new(size_t n, const std::nothrow_t&) noexcept { return tcpreap::test::counted_alloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return tcpreap::test::counted_alloc(n); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return tcpreap::test::counted_alloc(n, static_cast<size_t>(a));
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return tcpreap::test::counted_alloc(n, static_cast<size_t>(a));
}

// GCC pairs the inlined malloc above with these frees and, seeing
// `operator new`, warns of a mismatch that is not one.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
