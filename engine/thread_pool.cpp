#include "engine/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ag::kernels {

namespace {

// A waiting thread checks this many times (a few microseconds) before it sleeps: the loops of one training step
// follow each other closely, and waking a sleeping thread costs a system call.
constexpr int kSpins = 2000;

inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

// One loop: its items are claimed in chunks from `next`; `done` counts the items finished.
struct Job {
    void (*fn)(void*, int64_t);
    void* context;
    int64_t count, chunk;
    std::atomic<int64_t> next{0}, done{0};
};

// Where threads sleep: spin on a condition for a few microseconds, then wait on a condition variable. A waker
// changes the condition first, then looks for sleepers; a sleeper counts itself first, then looks at the condition
// (both sequentially consistent), so one of them always sees the other and no wake-up is lost.
class Sleeper {
public:
    template <typename Ready>
    void wait_until(Ready ready) {
        for (int s = 0; s < kSpins; ++s) {
            if (ready()) return;
            pause();
        }
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        cv_.wait(lock, ready);
        sleepers_.fetch_sub(1);
    }
    void wake_all() {
        if (sleepers_.load() == 0) return;
        std::lock_guard<std::mutex> lock(mutex_);
        cv_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<int> sleepers_{0};
};

thread_local bool t_in_pool_item = false;  // a loop inside an item runs on its own thread

// Claims chunks of the job until none is left; returns how many items this thread ran.
int64_t work(Job& job) {
    t_in_pool_item = true;
    int64_t ran = 0;
    for (int64_t begin; (begin = job.next.fetch_add(job.chunk)) < job.count;) {
        const int64_t end = std::min(job.count, begin + job.chunk);
        for (int64_t i = begin; i < end; ++i) job.fn(job.context, i);
        ran += end - begin;
    }
    t_in_pool_item = false;
    return ran;
}


using Clock = std::chrono::steady_clock;

// When another process holds a core, a worker that claimed items may lose its core in the middle of them, and the
// caller, done with its own share, waits milliseconds for a loop it could have run alone in microseconds. So the
// pool judges every parallel loop: had the caller run all items at its own pace, would it have finished sooner?
// If so, the next loops run on the caller alone, for a stretch that doubles with each loop judged slow in a row
// (up to kMaxSkip loops), then one loop tries the threads again. On a quiet machine no loop is judged slow, and
// since every item writes only what it owns, a loop gives the same results on one thread as on several.
class Backoff {
public:
    bool skip() {
        if (skip_ == 0) return false;
        --skip_;
        return true;
    }
    void judge(Clock::time_point start, Clock::time_point own_done, Clock::time_point end, int64_t ran,
               int64_t count) {
        const double own = std::chrono::duration<double>(own_done - start).count();
        const double total = std::chrono::duration<double>(end - start).count();
        // The caller's pace, own / ran per item, times every item: the loop's time on one thread.
        const double alone = ran > 0 ? own * static_cast<double>(count) / static_cast<double>(ran) : total;
        if (ran > 0 && total > alone) {
            stretch_ = std::min<int64_t>(stretch_ == 0 ? 1 : 2 * stretch_, kMaxSkip);
            skip_ = stretch_;
        } else {
            stretch_ = 0;
        }
    }

private:
    static constexpr int64_t kMaxSkip = 1024;
    int64_t skip_ = 0;     // loops left to run on the caller alone
    int64_t stretch_ = 0;  // the length of the last such stretch
};

int default_threads() {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) {
        const int n = std::atoi(env);
        if (n > 0) return n;
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

class Pool {
public:
    Pool() : size_(default_threads()) { start(); }

    int size() const { return size_; }

    void resize(int n) {
        std::lock_guard<std::mutex> lock(submit_);
        stop();
        size_ = n;
        start();
    }

    void run(int64_t count, void (*fn)(void*, int64_t), void* context) {
        std::unique_lock<std::mutex> lock(submit_, std::try_to_lock);
        if (size_ == 1 || count < 2 || t_in_pool_item || !lock.owns_lock() || backoff_.skip()) {
            for (int64_t i = 0; i < count; ++i) fn(context, i);
            return;
        }
        // Chunks of about a quarter of a thread's share: few enough to claim cheaply, enough that a thread whose
        // core is taken by another process leaves its share to the others.
        Job job{fn, context, count, std::max<int64_t>(1, count / (4 * size_))};
        const Clock::time_point start = Clock::now();
        current_.store(&job);
        generation_.fetch_add(1);
        workers_wait_.wake_all();
        const int64_t ran = work(job);
        const Clock::time_point own_done = Clock::now();
        finish(job, ran);
        caller_waits_.wait_until([&] { return job.done.load() == count; });
        // No worker may still hold the job when it goes out of scope: new ones find no job from here on, and the
        // ones inside are leaving (every item is done).
        current_.store(nullptr);
        while (active_.load() != 0) std::this_thread::yield();
        backoff_.judge(start, own_done, Clock::now(), ran, count);
    }

private:
    void start() {
        stop_ = false;
        // Each worker starts from the generation of its creation, so a job or a stop published before the thread
        // first runs is not missed.
        for (int i = 1; i < size_; ++i) workers_.emplace_back([this, seen = generation_.load()] { worker(seen); });
    }

    void stop() {
        stop_ = true;
        generation_.fetch_add(1);
        workers_wait_.wake_all();
        for (std::thread& t : workers_) t.join();
        workers_.clear();
    }

    void worker(uint32_t seen) {
        for (;;) {
            workers_wait_.wait_until([&] { return generation_.load() != seen; });
            seen = generation_.load();
            if (stop_.load()) return;
            active_.fetch_add(1);  // before reading the job: run() waits for active_ to drop after clearing it
            if (Job* job = current_.load()) finish(*job, work(*job));
            active_.fetch_sub(1);
        }
    }

    Backoff backoff_;    // touched only by the caller holding submit_
    std::mutex submit_;  // one loop at a time (another caller meanwhile runs its loop alone)
    int size_;
    std::vector<std::thread> workers_;
    std::atomic<uint32_t> generation_{0};  // bumped for every new job, and to stop the workers
    std::atomic<Job*> current_{nullptr};
    std::atomic<int> active_{0};
    std::atomic<bool> stop_{false};
    Sleeper workers_wait_;  // workers waiting for a job
    Sleeper caller_waits_;  // the caller waiting for the job's last items

    // The last item done wakes the caller.
    void finish(Job& job, int64_t ran) {
        if (ran > 0 && job.done.fetch_add(ran) + ran == job.count) caller_waits_.wake_all();
    }
};

// Never destroyed: its threads sleep until the process ends, and loops may run during static destruction.
Pool& pool() {
    static Pool* instance = new Pool;
    return *instance;
}

}  // namespace

void run_on_pool(int64_t count, void (*fn)(void*, int64_t), void* context) { pool().run(count, fn, context); }

int pool_threads() { return pool().size(); }

void set_pool_threads(int n) {
    if (n != pool().size()) pool().resize(n);
}

}  // namespace ag::kernels
