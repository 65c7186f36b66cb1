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

int main(int argc, char* argv[]) {
    int result = Catch::Session().run(argc, argv);
    std::printf("%d passed, %d failed\n", CaseCounter::passed, CaseCounter::failed);
    return result;
}
