// The flat, 64-byte-aligned buffer behind one or more tensors (views share it). Buffers of 4 KiB and more are
// recycled: a freed one is kept and handed to the next tensor of the same byte size.
#pragma once
#include <cstddef>
#include <memory>

namespace ag {

class Storage {
public:
    // zero = true fills the buffer with zero bytes (0.0, 0, false for every dtype).
    Storage(std::size_t nbytes, bool zero);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    void* data() const { return data_; }
    std::size_t nbytes() const { return nbytes_; }

private:
    void* data_;
    std::size_t nbytes_;
};

// Gives every recycled buffer back to the system (e.g. after training, before a long idle phase).
void release_cached_memory();

// The engine's buffers right now, for finding leaks and sizing runs (all threads together).
struct MemoryStats {
    std::size_t live_bytes = 0;    // bytes of the buffers that tensors hold now
    std::size_t live_buffers = 0;  // how many buffers tensors hold now
    std::size_t cached_bytes = 0;  // freed buffers kept for reuse (release_cached_memory returns them)
};
MemoryStats memory_stats();

}  // namespace ag
