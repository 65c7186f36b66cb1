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
constexpr std::size_t kCacheLimit = 1ull << 32;  // bytes kept for reuse at most; beyond that, freed buffers go back

// Under AddressSanitizer every buffer goes back to the system when freed: a recycled one would hide a use after
// free, or a read past the end of a smaller tensor, from the sanitizer.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRecycle = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kRecycle = false;
#else
constexpr bool kRecycle = true;
#endif
#else
constexpr bool kRecycle = true;
#endif

// Buffers taken from the system so far (memory_stats().system_allocations).
std::atomic<std::size_t> g_system_allocations{0};

// Exactly nbytes (64-byte aligned), so that a sanitizer sees the buffer's true end; null if the system refuses.
void* allocate(std::size_t nbytes) {
    g_system_allocations.fetch_add(1, std::memory_order_relaxed);
    return ::operator new(nbytes, std::align_val_t{kAlignment}, std::nothrow);
}
void deallocate(void* p) { ::operator delete(p, std::align_val_t{kAlignment}); }

// Freed buffers, kept by exact size and handed out again. A training step allocates the same sizes every
// iteration, so from the second step on no buffer comes from the system: no mmap/munmap, no fresh pages to fault
// in and zero, and no trip through malloc for the small ones. The cache never holds more than was alive at once (plus what kCacheLimit allows).
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
            for (void* p : list) deallocate(p);
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

}  // namespace

AllocationError::AllocationError(std::size_t nbytes)
    : message_("cannot allocate a buffer of " + std::to_string(nbytes) + " bytes: the system refused the memory") {}

Storage::Storage(std::size_t nbytes, bool zero) : nbytes_(nbytes) {
    data_ = kRecycle ? cache().take(nbytes) : nullptr;
    if (!data_) data_ = allocate(nbytes);
    if (!data_) throw AllocationError(nbytes);
    if (zero) std::memset(data_, 0, nbytes);
    g_live_bytes.fetch_add(nbytes_, std::memory_order_relaxed);
    g_live_buffers.fetch_add(1, std::memory_order_relaxed);
}

Storage::~Storage() {
    g_live_bytes.fetch_sub(nbytes_, std::memory_order_relaxed);
    g_live_buffers.fetch_sub(1, std::memory_order_relaxed);
    if (!kRecycle || !cache().keep(data_, nbytes_)) deallocate(data_);
}

void release_cached_memory() { cache().release_all(); }

MemoryStats memory_stats() {
    return {g_live_bytes.load(std::memory_order_relaxed), g_live_buffers.load(std::memory_order_relaxed),
            cache().cached_bytes(), g_system_allocations.load(std::memory_order_relaxed)};
}

}  // namespace ag
