#include "engine/storage.h"

#include <array>
#include <algorithm>
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

// Small buffers (the tensors of tiny ops, where taking a lock would be a good part of the op's cost) are kept per
// thread first, in bins of 64-byte size classes, with no lock. A buffer goes back to the list of the thread that
// frees it, and past kSmallCacheLimit bytes there to the shared cache (keyed by its size class), where a thread
// whose own list is empty looks next: tensors made on one thread (a data loader) and freed on another are still
// recycled. A thread's list is given back to the system when the thread ends.
constexpr std::size_t kSmallBytes = 16384;                      // buffers up to this size are small
constexpr std::size_t kSmallBins = kSmallBytes / kAlignment;   // bin i: sizes (64 i, 64 (i + 1)]
constexpr std::size_t kSmallCacheLimit = std::size_t{4} << 20;  // bytes one thread keeps at most

std::size_t small_bin(std::size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / kAlignment; }
std::size_t small_size(std::size_t bin) { return (bin + 1) * kAlignment; }  // what a buffer of the bin holds

// memory_stats' counts, kept per thread so that making a tensor costs no locked instruction: each thread adds to
// its own tally with a plain load and store, and memory_stats sums the tallies. A buffer made on one thread and
// freed on another leaves +n on the first and -n on the second; the sum is right.
struct Tally {
    std::atomic<int64_t> live_bytes{0}, live_buffers{0}, small_cached{0};
};
inline void add_own(std::atomic<int64_t>& count, int64_t n) {  // only ever called by the tally's thread
    count.store(count.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Every thread's tally, and what threads that ended (or tensors freed after their thread's tally) left.
struct Tallies {
    std::mutex mutex;
    std::vector<const Tally*> threads;
    Tally ended;  // updated with fetch_add, under no lock
};
Tallies& tallies() {  // never destroyed, as the cache
    static Tallies* instance = new Tallies;
    return *instance;
}

thread_local bool t_thread_buffers_gone = false;  // the thread is ending: its lists were given back

// One thread's small buffers and tally.
class ThreadBuffers {
public:
    ThreadBuffers() {
        std::lock_guard<std::mutex> lock(tallies().mutex);
        tallies().threads.push_back(&tally);
    }
    ~ThreadBuffers() {
        release_all();
        Tallies& all = tallies();
        std::lock_guard<std::mutex> lock(all.mutex);
        all.ended.live_bytes.fetch_add(tally.live_bytes.load());
        all.ended.live_buffers.fetch_add(tally.live_buffers.load());
        all.threads.erase(std::find(all.threads.begin(), all.threads.end(), &tally));
        t_thread_buffers_gone = true;  // a tensor freed later on this thread (a static one) skips the lists
    }
    void* take(std::size_t bin) {
        std::vector<void*>& list = bins_[bin];
        if (list.empty()) return nullptr;
        void* p = list.back();
        list.pop_back();
        add_own(tally.small_cached, -static_cast<int64_t>(small_size(bin)));
        return p;
    }
    bool keep(void* p, std::size_t bin) {
        if (tally.small_cached.load(std::memory_order_relaxed) + small_size(bin) > kSmallCacheLimit) return false;
        bins_[bin].push_back(p);
        add_own(tally.small_cached, static_cast<int64_t>(small_size(bin)));
        return true;
    }
    void release_all() {
        for (std::vector<void*>& list : bins_) {
            for (void* p : list) deallocate(p);
            list.clear();
        }
        tally.small_cached.store(0, std::memory_order_relaxed);
    }

    Tally tally;

private:
    std::array<std::vector<void*>, kSmallBins> bins_;
};

// This thread's lists and tally, or null once the thread has given them back.
ThreadBuffers* thread_buffers() {
    if (t_thread_buffers_gone) return nullptr;
    thread_local ThreadBuffers instance;
    return &instance;
}

// Counts a buffer of n bytes made (sign 1) or freed (sign -1) on this thread.
void count_buffer(ThreadBuffers* local, std::size_t nbytes, int64_t sign) {
    const int64_t n = sign * static_cast<int64_t>(nbytes);
    if (local) {
        add_own(local->tally.live_bytes, n);
        add_own(local->tally.live_buffers, sign);
    } else {
        tallies().ended.live_bytes.fetch_add(n);
        tallies().ended.live_buffers.fetch_add(sign);
    }
}

// Never destroyed: tensors held in static objects may be freed after every other static is gone.
BufferCache& cache() {
    static BufferCache* instance = new BufferCache;
    return *instance;
}

}  // namespace

AllocationError::AllocationError(std::size_t nbytes)
    : message_("cannot allocate a buffer of " + std::to_string(nbytes) + " bytes: the system refused the memory") {}

Storage::Storage(std::size_t nbytes, bool zero) : nbytes_(nbytes) {
    ThreadBuffers* local = thread_buffers();
    if (kRecycle && nbytes <= kSmallBytes) {  // a whole size class, so that any buffer of the bin fits
        const std::size_t bin = small_bin(nbytes);
        data_ = local ? local->take(bin) : nullptr;
        if (!data_) data_ = cache().take(small_size(bin));
        if (!data_) data_ = allocate(small_size(bin));
    } else {
        data_ = kRecycle ? cache().take(nbytes) : nullptr;
        if (!data_) data_ = allocate(nbytes);
    }
    if (!data_) throw AllocationError(nbytes);
    if (zero) std::memset(data_, 0, nbytes);
    count_buffer(local, nbytes_, 1);
}

Storage::~Storage() {
    ThreadBuffers* local = thread_buffers();
    count_buffer(local, nbytes_, -1);
    if (!kRecycle) deallocate(data_);
    else if (nbytes_ <= kSmallBytes) {
        const std::size_t bin = small_bin(nbytes_);
        if (!(local && local->keep(data_, bin)) && !cache().keep(data_, small_size(bin))) deallocate(data_);
    } else if (!cache().keep(data_, nbytes_)) deallocate(data_);
}

bool recycles_buffers() { return kRecycle; }

void release_cached_memory() {
    cache().release_all();
    if (ThreadBuffers* local = thread_buffers()) local->release_all();
}

MemoryStats memory_stats() {
    Tallies& all = tallies();
    std::lock_guard<std::mutex> lock(all.mutex);
    int64_t live_bytes = all.ended.live_bytes.load(), live_buffers = all.ended.live_buffers.load(), small = 0;
    for (const Tally* t : all.threads) {
        live_bytes += t->live_bytes.load(std::memory_order_relaxed);
        live_buffers += t->live_buffers.load(std::memory_order_relaxed);
        small += t->small_cached.load(std::memory_order_relaxed);
    }
    // The tallies are read one after another: while other threads make and free tensors, a buffer made on one and
    // freed on another may show its free and not its making. Exact when those threads are quiet.
    auto count = [](int64_t n) { return static_cast<std::size_t>(std::max<int64_t>(n, 0)); };
    return {count(live_bytes), count(live_buffers), cache().cached_bytes() + count(small),
            g_system_allocations.load(std::memory_order_relaxed)};
}

}  // namespace ag
