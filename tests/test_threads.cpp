// Sharing across threads: a trained, frozen model may serve forwards on several threads at once (under NoGradGuard
// on each), and every thread gets what one thread alone would. The ThreadSanitizer build (make test TSAN=1) runs
// this too, so a data race fails it even when the numbers happen to come out right.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "engine/engine.h"
#include "examples/support/model.h"
#include "examples/support/tasks.h"

using namespace ag;

TEST_CASE("threads: a frozen model's forward runs on four threads at once, each with one thread's results",
          "[threads]") {
    const trainer::Task& task = trainer::find_task("lookup");
    for (int64_t heads : {1, 2}) {
        manual_seed(3);
        trainer::AttentionModel model({task.V, task.T, 32, 16, heads});
        Generator gen(3);
        const int n_threads = 4, repeats = 10;
        std::vector<trainer::Batch> batches;
        std::vector<Tensor> expected;
        {
            NoGradGuard no_grad;
            for (int t = 0; t < n_threads; ++t) {
                batches.push_back(task.sample(8, gen));
                expected.push_back(model(batches.back().tokens));
            }
        }
        std::vector<int> mismatches(n_threads, 0);
        std::vector<std::thread> threads;
        for (int t = 0; t < n_threads; ++t)
            threads.emplace_back([&, t] {
                NoGradGuard no_grad;  // grad mode is per thread: each serving thread turns it off for itself
                for (int r = 0; r < repeats; ++r)
                    if (model(batches[t].tokens).to_vector<float>() != expected[t].to_vector<float>()) ++mismatches[t];
            });
        for (std::thread& thread : threads) thread.join();
        INFO(heads << " head(s)");
        CHECK(mismatches == std::vector<int>(n_threads, 0));
    }
}

TEST_CASE("threads: grad mode and anomaly mode are per thread", "[threads]") {
    NoGradGuard no_grad;
    DetectAnomaly anomaly;
    bool other_grad = false, other_anomaly = true;
    std::thread([&] {
        other_grad = grad_mode_enabled();
        other_anomaly = anomaly_mode_enabled();
    }).join();
    CHECK(other_grad);      // a new thread records graphs
    CHECK_FALSE(other_anomaly);
    CHECK_FALSE(grad_mode_enabled());
}
