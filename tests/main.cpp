// The test runner's main: Catch2's own, plus a closing line "N passed, M failed" counting test cases.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

namespace {

struct CaseCounter : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    static inline int passed = 0, failed = 0;
    void testCaseEnded(const Catch::TestCaseStats& stats) override {
        (stats.totals.assertions.failed > 0 ? failed : passed)++;
        TestEventListenerBase::testCaseEnded(stats);
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(CaseCounter)

// The suite checks that a buffer the system cannot give is reported as an ag::AllocationError: under the sanitizers,
// whose allocators would otherwise stop the run, an allocation that fails returns null as the system's does.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
extern "C" const char* __tsan_default_options() { return "allocator_may_return_null=1"; }

int main(int argc, char* argv[]) {
    int result = Catch::Session().run(argc, argv);
    std::printf("%d passed, %d failed\n", CaseCounter::passed, CaseCounter::failed);
    return result;
}
