// Numbers meeting tensors: a number is converted to a tensor's dtype as PyTorch converts it (an error when it does
// not fit), and a comparison of an integer tensor with a number compares the exact values.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "engine/engine.h"

using ag::DType;
using ag::Tensor;
using Catch::Contains;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

std::vector<bool> bools(const Tensor& mask) {
    std::vector<bool> out;
    for (int64_t v : mask.to(DType::Int64).to_vector<int64_t>()) out.push_back(v != 0);
    return out;
}

Tensor int_range() { return ag::from_vector(std::vector<int64_t>{0, 1, 2}, {3}); }

}  // namespace

TEST_CASE("scalars: a number that does not fit the dtype is an error, not a wrapped value", "[scalar]") {
    REQUIRE_THROWS_WITH(ag::full({2}, kNaN, DType::Int64),
                        "full: value nan cannot be converted to torch.int64 without overflow");
    REQUIRE_THROWS_WITH(ag::full({2}, kInf, DType::Int64), Contains("value inf cannot be converted to torch.int64"));
    REQUIRE_THROWS_AS(ag::full({2}, 1e19, DType::Int64), std::invalid_argument);
    REQUIRE_THROWS_AS(ag::full({2}, -1e19, DType::Int64), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::full({2}, 1e300), "full: value 1e+300 cannot be converted to torch.float32 without overflow");
    REQUIRE_THROWS_WITH(ag::ones({2}, DType::Int64).masked_fill(ag::ones({2}, DType::Bool), -kInf),
                        "masked_fill: value -inf cannot be converted to torch.int64 without overflow");
    REQUIRE_THROWS_WITH(ag::zeros({2}, DType::Int64).fill_(kNaN), Contains("fill_: value nan"));
    REQUIRE_THROWS_AS(ag::tensor({1.0, 1e300}), std::invalid_argument);
    REQUIRE_THROWS_AS(ag::arange(0, 3, 1, DType::Int64).masked_fill(ag::ones({3}, DType::Bool), kNaN),
                      std::invalid_argument);
}

TEST_CASE("scalars: numbers that fit convert as PyTorch converts them", "[scalar]") {
    CHECK(ag::full({2}, 2.7, DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{2, 2});    // truncates
    CHECK(ag::full({1}, -2.7, DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{-2});
    CHECK(ag::full({1}, -9223372036854775808.0, DType::Int64).item() == -9223372036854775808.0);  // INT64_MIN fits
    CHECK(std::isnan(ag::full({1}, kNaN).item()));  // NaN and inf are float values
    CHECK(ag::full({1}, -kInf).item() == -kInf);
    CHECK(ag::full({1}, kNaN, DType::Bool).item() == 1);  // bool(nan) is True
    CHECK(ag::full({1}, 0.0, DType::Bool).item() == 0);
    CHECK(ag::full({1}, 1e300, DType::Float64).item() == 1e300);
    Tensor x = ag::ones({2});
    CHECK((x * 1e300).to_vector<float>() == std::vector<float>(2, INFINITY));  // arithmetic overflows to inf, as in PyTorch
}

TEST_CASE("scalars: arange with a count beyond int64 is a length_error, not an empty tensor", "[scalar][creation]") {
    REQUIRE_THROWS_AS(ag::arange(0, 1e30), std::length_error);
    REQUIRE_THROWS_WITH(ag::arange(0, 1e30), Contains("arange:") && Contains("more elements than a 64-bit size"));
    REQUIRE_THROWS_AS(ag::arange(-1e30, 1e30, 1e10), std::length_error);
    CHECK(ag::arange(5, 0).numel() == 0);  // an empty range is still empty
    CHECK(ag::arange(0, 1, 0.25).to_vector<float>() == std::vector<float>{0, 0.25f, 0.5f, 0.75f});
}

TEST_CASE("scalars: integer tensors compare with a fractional number exactly", "[scalar][elementwise]") {
    Tensor x = int_range();
    CHECK(bools(x == 0.5) == std::vector<bool>{false, false, false});
    CHECK(bools(x != 0.5) == std::vector<bool>{true, true, true});
    CHECK(bools(x < 0.5) == std::vector<bool>{true, false, false});
    CHECK(bools(x <= 1.5) == std::vector<bool>{true, true, false});
    CHECK(bools(x > 1.5) == std::vector<bool>{false, false, true});
    CHECK(bools(x >= 0.5) == std::vector<bool>{false, true, true});
    CHECK(bools(x >= -0.5) == std::vector<bool>{true, true, true});
    CHECK(bools(x < -0.5) == std::vector<bool>{false, false, false});
    CHECK(bools(x == 1.0) == std::vector<bool>{false, true, false});
    CHECK(bools(x <= 1.0) == std::vector<bool>{true, true, false});
}

TEST_CASE("scalars: integer tensors compare with numbers beyond int64 and with NaN", "[scalar][elementwise]") {
    Tensor x = int_range();
    CHECK(bools(x < 1e30) == std::vector<bool>{true, true, true});
    CHECK(bools(x <= 1e30) == std::vector<bool>{true, true, true});
    CHECK(bools(x > -1e30) == std::vector<bool>{true, true, true});
    CHECK(bools(x > 1e30) == std::vector<bool>{false, false, false});
    CHECK(bools(x == 1e30) == std::vector<bool>{false, false, false});
    CHECK(bools(x != -kInf) == std::vector<bool>{true, true, true});
    CHECK(bools(x < kInf) == std::vector<bool>{true, true, true});
    for (Tensor m : {x == kNaN, x < kNaN, x <= kNaN, x > kNaN, x >= kNaN})
        CHECK(bools(m) == std::vector<bool>{false, false, false});
    CHECK(bools(x != kNaN) == std::vector<bool>{true, true, true});
    // INT64_MAX is 2^63 - 1; the nearest double is 2^63, which no int64 equals.
    Tensor big = ag::from_vector(std::vector<int64_t>{std::numeric_limits<int64_t>::max()}, {1});
    CHECK(bools(big == 9223372036854775807.0) == std::vector<bool>{false});
    CHECK(bools(big < 9223372036854775807.0) == std::vector<bool>{true});
    Tensor near = ag::from_vector(std::vector<int64_t>{(int64_t{1} << 53) + 1}, {1});  // not a double
    CHECK(bools(near == 9007199254740992.0) == std::vector<bool>{false});
    CHECK(bools(near > 9007199254740992.0) == std::vector<bool>{true});
}

TEST_CASE("scalars: bool tensors compare with numbers as 0 and 1", "[scalar][elementwise]") {
    Tensor b = ag::from_vector(std::vector<int64_t>{0, 1}, {2}) == 1.0;
    CHECK(bools(b) == std::vector<bool>{false, true});
    CHECK(bools(b < 0.5) == std::vector<bool>{true, false});
    CHECK(bools(b == 0.5) == std::vector<bool>{false, false});
    CHECK(bools(b == 1.0) == std::vector<bool>{false, true});
    CHECK(bools(b > -3.0) == std::vector<bool>{true, true});
}

TEST_CASE("scalars: float tensors compare with the number rounded to their dtype, as PyTorch",
          "[scalar][elementwise]") {
    Tensor x = ag::tensor({0.1, 0.5});  // float32 0.1 is not the double 0.1
    CHECK(bools(x == 0.1) == std::vector<bool>{true, false});
    CHECK(bools(x < 1e300) == std::vector<bool>{true, true});  // 1e300 rounds to inf in float32
    CHECK(bools(x > -1e300) == std::vector<bool>{true, true});
}

TEST_CASE("scalars: converting floats to int64 truncates, and refuses values with no int64", "[scalar]") {
    CHECK(ag::tensor({2.7, -2.7, 0.5}).to(DType::Int64).to_vector<int64_t>() == std::vector<int64_t>{2, -2, 0});
    REQUIRE_THROWS_WITH(ag::tensor({1.0, kNaN}).to(DType::Int64),
                        "to: a value is NaN, infinite or outside the range of torch.int64, so it has no int64 value");
    REQUIRE_THROWS_AS(ag::tensor({kInf}).to(DType::Int64), std::invalid_argument);
    REQUIRE_THROWS_AS(ag::tensor({1e19}, DType::Float64).to(DType::Int64), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::tensor({-kInf}).to_vector<int64_t>(), Contains("to_vector: a value is NaN, infinite"));
    CHECK(ag::tensor({-9.2233720368547758e18}, DType::Float64).to(DType::Int64).item() == -9223372036854775808.0);
    // every element of a large tensor is checked, whichever thread converts it
    Tensor big = ag::zeros({1 << 16});
    big[40000] = kNaN;
    REQUIRE_THROWS_AS(big.to(DType::Int64), std::invalid_argument);
    CHECK(bools(ag::tensor({kNaN, 0.0}).to(DType::Bool)) == std::vector<bool>{true, false});  // bool(nan) is True
}

TEST_CASE("scalars: arithmetic with a number names its op when the tensor is not floating", "[scalar]") {
    Tensor i = int_range();
    REQUIRE_THROWS_WITH(i * kNaN, "mul: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(2.0 - i, "sub: expected a floating-point tensor; got torch.int64");
}
