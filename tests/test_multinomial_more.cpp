// multinomial with replacement (engine/creation.cpp): PyTorch's samples bit for bit after manual_seed, 1-D and 2-D
// weights, float32 and float64 (tests/fixtures/select_more_fixtures.inc); the call forms and their errors.
#include <catch2/catch.hpp>

#include "engine/engine.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/select_more_fixtures.inc"
}  // namespace fixture

namespace sfx = fixture::sfx;
using ag::DType;
using ag::Tensor;
using Catch::Contains;

namespace {

std::vector<double> as_doubles(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace

TEST_CASE("multinomial with replacement: PyTorch's samples after manual_seed, 1-D and 2-D, float32 and float64",
          "[sampling][random]") {
    const Tensor p5 = make(sfx::mn_p5), p36 = make(sfx::mn_p36);
    for (int seed = 0; seed < 3; ++seed) {
        CAPTURE(seed);
        ag::manual_seed(seed);
        check_equal(ag::multinomial(p5, 20, /*replacement=*/true), sfx::mn_1d[seed], DType::Int64);
        ag::manual_seed(seed);
        check_equal(ag::multinomial(p36, 10, true), sfx::mn_2d[seed], DType::Int64);
    }
    ag::manual_seed(7);
    check_equal(ag::multinomial(make(sfx::mn_p36, DType::Float64), 12, true), sfx::mn_2d_f64, DType::Int64);
}

TEST_CASE("multinomial with replacement: one sample and then three, PyTorch's draws",
          "[sampling][random]") {
    ag::manual_seed(5);
    const Tensor one = ag::multinomial(make(sfx::mn_p5), 1, true), three = ag::multinomial(make(sfx::mn_p5), 3, true);
    check_equal(ag::cat({one, three}, 0), sfx::mn_one_then_three, DType::Int64);
}

TEST_CASE("multinomial: a generator passed third is a generator, not the replacement flag", "[sampling][random]") {
    const Tensor p = make(sfx::mn_p5);
    ag::Generator g1(3), g2(3);
    CHECK(as_doubles(ag::multinomial(p, 5, &g1)) == as_doubles(ag::multinomial(p, 5, false, &g2)));  // distinct samples
    CHECK(g1.random32() == g2.random32());  // both drew from their own generator, the same number of times
    ag::Generator g3(3), g4(3);
    CHECK(as_doubles(ag::multinomial(p, 9, true, &g3)) == as_doubles(ag::multinomial(p, 9, true, &g4)));
    REQUIRE_THROWS_WITH(ag::multinomial(p, 6, &g1), Contains("without replacement"));
    CHECK(ag::multinomial(p).shape() == ag::Shape{1});
}

TEST_CASE("multinomial with replacement: more samples than positions, and zero weights never drawn",
          "[sampling][random]") {
    ag::manual_seed(11);
    const Tensor s = ag::multinomial(ag::tensor({{0.0, 1.0, 0.0, 3.0}, {5.0, 0.0, 0.0, 0.0}}), 1000, true);
    REQUIRE(s.shape() == ag::Shape{2, 1000});
    const std::vector<int64_t> v = s.to_vector<int64_t>();
    int64_t threes = 0;
    for (int64_t i = 0; i < 1000; ++i) {
        CHECK((v[i] == 1 || v[i] == 3));
        CHECK(v[1000 + i] == 0);
        threes += v[i] == 3;
    }
    CHECK((threes > 650 && threes < 850));  // 750 expected; with a fixed seed this cannot flake
}

TEST_CASE("multinomial with replacement: bad weights and a num_samples below 1 are refused", "[sampling][errors]") {
    REQUIRE_THROWS_WITH(ag::multinomial(ag::ones({3}), 0, true), "multinomial: num_samples must be at least 1; got 0");
    REQUIRE_THROWS_WITH(ag::multinomial(ag::tensor({1.0, -1.0}), 3, true), Contains("element < 0"));
    REQUIRE_THROWS_WITH(ag::multinomial(ag::tensor({1.0, NAN}), 3, true), Contains("nan"));
    REQUIRE_THROWS_WITH(ag::multinomial(ag::zeros({2, 2}), 3, true), Contains("sum of probabilities <= 0"));
    REQUIRE_THROWS_WITH(ag::multinomial(ag::ones({2, 2, 2}), 3, true), Contains("1-D (K) or 2-D (rows, K)"));
    REQUIRE_THROWS_WITH(ag::multinomial(ag::ones({3}, DType::Int64), 3, true), Contains("multinomial"));
    REQUIRE_THROWS_WITH(ag::multinomial(ag::zeros({2, 0}), 3, true), Contains("sum of probabilities <= 0"));
}
