// The flat, 64-byte-aligned buffer behind one or more tensors (views share it). Buffers are recycled: a freed one
// is kept and handed to the next tensor of the same byte size (up to 16 KiB: of the same 64-byte size class, first
// from a list of the thread's own that needs no lock), except under AddressSanitizer, which then sees every use after
// free.
//
// Each buffer counts the in-place writes into it (its version, as PyTorch's tensor._version): every write through
// copy_, fill_, add_ or an optimiser step, into the tensor or any view of it, bumps the count. An op that saves a
// tensor for its backward records the count, and backward refuses to compute with values changed since.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

namespace ag {

// The system could not give a buffer: a std::bad_alloc whose what() says how many bytes were asked for.
class AllocationError : public std::bad_alloc {
public:
    explicit AllocationError(std::size_t nbytes);
    const char* what() const noexcept override { return message_.c_str(); }

private:
    std::string message_;
};

class Storage {
public:
    // zero = true fills the buffer with zero bytes (0.0, 0, false for every dtype). Throws AllocationError.
    Storage(std::size_t nbytes, bool zero);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    void* data() const { return data_; }
    std::size_t nbytes() const { return nbytes_; }

    // How many in-place writes the buffer has had (see above).
    uint64_t version() const { return version_.load(std::memory_order_relaxed); }
    void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

private:
    void* data_;
    std::size_t nbytes_;
    std::atomic<uint64_t> version_{0};
};

// True when freed buffers are kept for reuse: always, except under AddressSanitizer (where every buffer goes back
// to the system, so that the sanitizer sees each use after free).
bool recycles_buffers();

// Gives every recycled buffer back to the system (e.g. after training, before a long idle phase).
// Other threads' lists of small buffers go back when those threads end (or call this themselves).
void release_cached_memory();

// The engine's buffers right now, for finding leaks and sizing runs (all threads together; exact when no other thread
// is making or freeing tensors meanwhile, else a moment's approximation).
struct MemoryStats {
    std::size_t live_bytes = 0;    // bytes of the buffers that tensors hold now
    std::size_t live_buffers = 0;  // how many buffers tensors hold now
    std::size_t cached_bytes = 0;  // freed buffers kept for reuse (release_cached_memory returns them)
    std::size_t system_allocations = 0;  // buffers taken from the system so far, not from the cache (cumulative)
};
MemoryStats memory_stats();

}  // namespace ag
