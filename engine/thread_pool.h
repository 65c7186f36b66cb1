// The engine's threads (internal; engine/threads.h is the public side): a pool that runs the items of a loop on
// every thread, the caller included, and whose idle threads sleep rather than spin.
//
// Why not OpenMP's: its idle threads spin for a core, and on a machine where another process holds one of the
// cores a spinning thread takes the time its partner needs, so a run with 2 threads became several times slower
// than with 1. Here a waiting thread spins for a few microseconds only (long enough to catch the next loop of a
// step), then sleeps on a futex; and items are handed out in small chunks as threads ask for them, so a thread
// that lost its core simply takes fewer. Each item writes only what it owns, so results do not depend on which
// thread ran which item.
#pragma once
#include <cstdint>

namespace ag::kernels {

// fn(context, i) for every i in [0, count), on the pool's threads and the calling one; returns when all are done.
// A call from inside a pool item, or while another thread's loop holds the pool, runs the items itself, in order.
void run_on_pool(int64_t count, void (*fn)(void* context, int64_t i), void* context);

// The pool's size, the calling thread included (1: every loop runs on the caller). The default is the number of
// cores, or OMP_NUM_THREADS when it is set to a positive number.
int pool_threads();
void set_pool_threads(int n);

}  // namespace ag::kernels
