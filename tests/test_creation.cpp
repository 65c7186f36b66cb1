// Creation (engine/ops.h, "creation"): zeros, ones, full, arange, tril and triu, tensor and from_vector. Values
// against PyTorch 1.13 in float32 and float64 (tests/fixtures/op_fixtures.inc, written by
// tests/fixtures/make_op_fixtures.py), tril and triu's gradients in float64, and each error message. The random
// tensors: test_random.cpp.
#include <catch2/catch.hpp>

#include <limits>
#include <stdexcept>
#include <vector>

#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using namespace ag;
using Catch::Contains;

namespace {
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }
}  // namespace

// ---- values ----------------------------------------------------------------------------------------------------

TEST_CASE("creation functions give the documented values and shapes", "[creation]") {
    CHECK(zeros({2, 3}).shape() == Shape{2, 3});
    CHECK(values(zeros({3})) == std::vector<float>{0, 0, 0});
    CHECK(values(ones({2})) == std::vector<float>{1, 1});
    CHECK(values(full({2}, 3.5)) == std::vector<float>{3.5, 3.5});
    CHECK(values(arange(4.0)) == std::vector<float>{0, 1, 2, 3});
    CHECK(values(arange(1.0, 2.0, 0.25)) == std::vector<float>{1, 1.25, 1.5, 1.75});
    CHECK(values(arange(3.0, 0.0, -1.0)) == std::vector<float>{3, 2, 1});
    CHECK(values(tril(ones({3, 3}))) == std::vector<float>{1, 0, 0, 1, 1, 0, 1, 1, 1});
    CHECK(values(triu(ones({2, 3}), 1)) == std::vector<float>{0, 1, 1, 0, 0, 1});
    CHECK(values(tril(ones({2, 3}), -1)) == std::vector<float>{0, 0, 0, 1, 0, 0});
    CHECK(tensor(2.5).dim() == 0);
    CHECK(tensor({{1, 2}, {3, 4}, {5, 6}}).shape() == Shape{3, 2});
    CHECK(tensor({1, 2}, DType::Int64).dtype() == DType::Int64);
    CHECK(from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}).dtype() == DType::Float64);
}

TEST_CASE("arange: the count and values match PyTorch, also for fractional and negative steps", "[creation]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    check_close(ag::arange(5, dt), fx::arange_5, dt);
    check_close(ag::arange(1, 2.5, 0.5, dt), fx::arange_1_2_5_by_0_5, dt);
    check_close(ag::arange(0, 1, 0.1, dt), fx::arange_0_1_by_0_1, dt);  // 10 values, not 11
    check_close(ag::arange(10, 0, -3, dt), fx::arange_10_0_by_neg_3, dt);
    check_close(ag::arange(-1.5, 1.5, 0.7, dt), fx::arange_neg_1_5_1_5_by_0_7, dt);
    check_equal(ag::arange(0, 10, 3, DType::Int64), fx::arange_int64_0_10_by_3, DType::Int64);
}

TEST_CASE("tril and triu: diagonals -1, 0 and 2 match PyTorch on (3,5) and batched (2,3,4)", "[creation]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x35 = make(fx::x35, dt), x234 = make(fx::x234, dt);
    const int64_t diagonals[] = {-1, 0, 2};
    for (size_t k = 0; k < 3; ++k) {
        CAPTURE(diagonals[k]);
        check_equal(ag::tril(x35, diagonals[k]), fx::tril_x35[k], dt);
        check_equal(ag::triu(x35, diagonals[k]), fx::triu_x35[k], dt);
        check_equal(ag::tril(x234, diagonals[k]), fx::tril_x234[k], dt);
        check_equal(ag::triu(x234, diagonals[k]), fx::triu_x234[k], dt);
    }
}

TEST_CASE("tril and triu: gradients with several diagonals match finite differences", "[creation][gradcheck]") {
    ag::manual_seed(23);
    Tensor x = input({2, 3, 4});
    for (int64_t diagonal : {-1, 0, 1}) {
        INFO("diagonal " << diagonal);
        check_unary([diagonal](const Tensor& t) { return ag::tril(t, diagonal); }, x);
        check_unary([diagonal](const Tensor& t) { return ag::triu(t, diagonal); }, x);
    }
    check_unary([](const Tensor& t) { return ag::tril(t.transpose(0, 1)); }, input({4, 3}));
}

// ---- errors ----------------------------------------------------------------------------------------------------

TEST_CASE("creation functions refuse bad arguments", "[creation][errors]") {
    REQUIRE_THROWS_AS(ag::randint(5, 5, {2}), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::randint(5, 5, {2}), "randint: high must be greater than low; got low=5, high=5");
    REQUIRE_THROWS_WITH(ag::randint(3, 1, {2}), Contains("got low=3, high=1"));
    REQUIRE_THROWS_AS(ag::arange(0, 5, 0), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::arange(0, 5, 0), Contains("arange:") && Contains("step nonzero") && Contains("step=0"));
    REQUIRE_THROWS_WITH(ag::arange(std::numeric_limits<double>::infinity()), Contains("end=inf"));
    REQUIRE_THROWS_WITH(ag::zeros({2, -1}), Contains("sizes must be non-negative; got [2, -1]"));
}

TEST_CASE("tril, triu and randn: a tensor of too few dims, or an integer randn, is refused", "[creation][errors]") {
    REQUIRE_THROWS_WITH(ag::tril(ag::ones({3})), "tril: needs a tensor with at least 2 dims; got shape [3]");
    REQUIRE_THROWS_WITH(ag::triu(ag::ones({})), Contains("triu: needs a tensor with at least 2 dims"));
    REQUIRE_THROWS_WITH(ag::randn({2}, DType::Int64), "randn: expected a floating-point tensor; got torch.int64");
}

TEST_CASE("tensor and from_vector: ragged nested lists and a wrong count of values are refused", "[creation][errors]") {
    REQUIRE_THROWS_AS(ag::tensor({{1.0, 2.0}, {3.0}}), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::tensor({{1.0, 2.0}, {3.0}}),
                        "tensor: nested lists must be rectangular; got rows of shapes [2] and [1]");
    REQUIRE_THROWS_WITH(ag::tensor({1.0, {2.0, 3.0}}), Contains("got rows of shapes [] and [2]"));
    REQUIRE_THROWS_WITH(ag::tensor({{{1.0}, {2.0}}, {{1.0, 2.0}}}), Contains("got rows of shapes [2, 1] and [1, 2]"));
    REQUIRE_THROWS_WITH(ag::from_vector(std::vector<double>{1, 2, 3}, {2, 2}),
                        "from_vector: the shape must hold exactly the values given; got 3 values for shape [2, 2]");
}
