#include "engine/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace ag {

namespace {

constexpr std::size_t kAlignment = 64;        // a cache line, and enough for any SIMD load
constexpr std::size_t kCachedFrom = 4096;     // smaller buffers go straight to malloc, which is fast at those
constexpr std::size_t kCacheLimit = 1ull << 32;  // bytes kept for reuse at most; beyond that, freed buffers go back

// Freed buffers of 4 KiB and more, kept by exact size and handed out again. A training step allocates the same
// sizes every iteration, so from the second step on no buffer comes from the system: no mmap/munmap, and no fresh
// pages to fault in and zero. The cache never holds more than was alive at once (plus what kCacheLimit allows).
class BufferCache {
public:
    void* take(std::size_t bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = free_.find(bytes);
        if (it == free_.end() || it->second.empty()) return nullptr;
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return p;
    }
    bool keep(void* p, std::size_t bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (cached_ + bytes > kCacheLimit) return false;
        free_[bytes].push_back(p);
        cached_ += bytes;
        return true;
    }
    void release_all() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [bytes, list] : free_)
            for (void* p : list) std::free(p);
        free_.clear();
        cached_ = 0;
    }
    std::size_t cached_bytes() {
        std::lock_guard<std::mutex> lock(mutex_);
        return cached_;
    }

private:
    std::mutex mutex_;
    std::unordered_map<std::size_t, std::vector<void*>> free_;
    std::size_t cached_ = 0;
};

// Counted at every Storage's birth and death (relaxed: only the totals matter, not their order).
std::atomic<std::size_t> g_live_bytes{0}, g_live_buffers{0};

// Never destroyed: tensors held in static objects may be freed after every other static is gone.
BufferCache& cache() {
    static BufferCache* instance = new BufferCache;
    return *instance;
}

// aligned_alloc wants a size that is a multiple of the alignment (and not zero).
std::size_t rounded(std::size_t nbytes) {
    std::size_t r = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
    return r ? r : kAlignment;
}

}  // namespace

AllocationError::AllocationError(std::size_t nbytes)
    : message_("cannot allocate a buffer of " + std::to_string(nbytes) + " bytes: the system refused the memory") {}

Storage::Storage(std::size_t nbytes, bool zero) : nbytes_(nbytes) {
    if (nbytes > std::numeric_limits<std::size_t>::max() - kAlignment) throw AllocationError(nbytes);
    const std::size_t size = rounded(nbytes);
    data_ = size >= kCachedFrom ? cache().take(size) : nullptr;
    if (!data_) data_ = std::aligned_alloc(kAlignment, size);
    if (!data_) throw AllocationError(nbytes);
    if (zero) std::memset(data_, 0, nbytes);
    g_live_bytes.fetch_add(nbytes_, std::memory_order_relaxed);
    g_live_buffers.fetch_add(1, std::memory_order_relaxed);
}

Storage::~Storage() {
    g_live_bytes.fetch_sub(nbytes_, std::memory_order_relaxed);
    g_live_buffers.fetch_sub(1, std::memory_order_relaxed);
    const std::size_t size = rounded(nbytes_);
    if (size < kCachedFrom || !cache().keep(data_, size)) std::free(data_);
}

void release_cached_memory() { cache().release_all(); }

MemoryStats memory_stats() {
    return {g_live_bytes.load(std::memory_order_relaxed), g_live_buffers.load(std::memory_order_relaxed),
            cache().cached_bytes()};
}

}  // namespace ag
