// Sizes that do not fit: every element count, byte count and stride is checked, and a shape too large to count is a
// std::length_error (a buffer the system cannot give, an ag::AllocationError), never a smaller buffer.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <new>
#include <stdexcept>
#include <vector>

#include "engine/engine.h"
#include "layers/layers.h"

using ag::DType;
using ag::Shape;
using ag::Tensor;
using Catch::Contains;

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
}  // namespace

TEST_CASE("sizes: a shape whose element or byte count overflows int64 is a length_error", "[sizes]") {
    REQUIRE_THROWS_AS(ag::zeros({int64_t{1} << 62}), std::length_error);  // 2^62 floats are 2^64 bytes
    REQUIRE_THROWS_WITH(ag::zeros({int64_t{1} << 62}),
                        Contains("shape [4611686018427387904] of 4-byte elements takes more bytes than"));
    REQUIRE_THROWS_AS(ag::ones({int64_t{1} << 31, int64_t{1} << 31}), std::length_error);
    REQUIRE_THROWS_AS(ag::zeros({int64_t{1} << 32, int64_t{1} << 32, 4}), std::length_error);  // 2^66 wraps to 0
    REQUIRE_THROWS_WITH(ag::zeros({int64_t{1} << 32, int64_t{1} << 32, 4}),
                        "empty: shape [4294967296, 4294967296, 4] has more elements than a 64-bit size can count");
    REQUIRE_THROWS_AS(ag::zeros({kMax}), std::length_error);
    REQUIRE_THROWS_AS(ag::randn({kMax, 2}), std::length_error);
    REQUIRE_THROWS_AS(ag::arange(0, 4.6116860184273879e18), std::length_error);  // 2^62 elements
    REQUIRE_THROWS_AS(ag::Linear(int64_t{1} << 31, int64_t{1} << 31), std::length_error);
    REQUIRE_THROWS_AS(ag::Embedding(int64_t{1} << 40, int64_t{1} << 40), std::length_error);
    REQUIRE_THROWS_AS(ag::zeros({-1, 3}), std::invalid_argument);
}

TEST_CASE("sizes: an empty shape whose strides would overflow is refused too", "[sizes]") {
    // No elements, but its row-major strides (2^62 * 2^62) cannot be written down.
    REQUIRE_THROWS_AS(ag::zeros({0, int64_t{1} << 62, int64_t{1} << 62}), std::length_error);
    REQUIRE_THROWS_AS(ag::zeros({0}).reshape({0, int64_t{1} << 62, int64_t{1} << 62}), std::length_error);
    REQUIRE_THROWS_AS(ag::check_shape({0, int64_t{1} << 62, int64_t{1} << 62}, "x"), std::length_error);
    CHECK(ag::zeros({0, int64_t{1} << 40}).numel() == 0);  // its strides fit: allowed
    CHECK(ag::zeros({0, int64_t{1} << 40}).strides() == Shape{int64_t{1} << 40, 1});
}

TEST_CASE("sizes: an expanded view too large to count is refused", "[sizes][views]") {
    REQUIRE_THROWS_AS(ag::ones({1}).expand({int64_t{1} << 62, int64_t{1} << 62}), std::length_error);
    Tensor wide = ag::ones({1, 1}).expand({int64_t{1} << 31, int64_t{1} << 31});  // a view: fine
    CHECK(wide.numel() == int64_t{1} << 62);
    REQUIRE_THROWS_AS(wide.contiguous(), std::length_error);  // its copy would need 2^64 bytes
}

TEST_CASE("sizes: a buffer the system cannot give is an AllocationError naming the bytes", "[sizes]") {
    REQUIRE_THROWS_AS(ag::zeros({int64_t{1} << 50}), std::bad_alloc);  // 4 PiB
    REQUIRE_THROWS_WITH(ag::zeros({int64_t{1} << 50}), Contains("cannot allocate a buffer of 4503599627370496 bytes"));
}

TEST_CASE("sizes: checked_mul and numel over a range of dims", "[sizes]") {
    CHECK(ag::checked_mul(int64_t{1} << 31, int64_t{1} << 31, "x") == int64_t{1} << 62);
    REQUIRE_THROWS_WITH(ag::checked_mul(int64_t{1} << 32, int64_t{1} << 31, "slice"),
                        "slice: 4294967296 * 2147483648 overflows a 64-bit size");
    const Shape s{2, 0, 5, 7};
    CHECK(ag::numel_of(s) == 0);
    CHECK(ag::numel_of(s, 0, 1) == 2);
    CHECK(ag::numel_of(s, 2, 4) == 35);
    CHECK(ag::numel_of(s, 3, 3) == 1);
}

TEST_CASE("sizes: a slice step near INT64_MAX keeps one element", "[sizes][views]") {
    Tensor x = ag::arange(10);
    Tensor s = x.slice(0, 0, 10, kMax);
    CHECK(s.shape() == Shape{1});
    CHECK(s.to_vector<float>() == std::vector<float>{0});
    CHECK(x.slice(0, 3, kMax, kMax).to_vector<float>() == std::vector<float>{3});
    CHECK(x.slice(0, 2, 10, 3).to_vector<float>() == std::vector<float>{2, 5, 8});
    CHECK(x.slice(0, 9, 10, int64_t{1} << 62).shape() == Shape{1});
    CHECK(x.slice(0, 10, kMax, kMax).shape() == Shape{0});
    CHECK(x.slice(0, -kMax, kMax).shape() == Shape{10});
    // A strided slice of a strided slice: the stride is the product, checked.
    Tensor m = ag::arange(64).reshape({8, 8});
    CHECK(m.slice(1, 0, 8, 3).slice(1, 0, 3, 2).to_vector<float>() ==
          std::vector<float>{0, 6, 8, 14, 16, 22, 24, 30, 32, 38, 40, 46, 48, 54, 56, 62});
}

TEST_CASE("sizes: a tensor with no elements is contiguous", "[sizes]") {
    CHECK(ag::zeros({3, 0}).is_contiguous());
    CHECK(ag::zeros({0, 3}).transpose(0, 1).is_contiguous());
    CHECK(ag::zeros({2, 0, 4}).is_contiguous());
    // so an optimiser takes a layer with an empty weight, and steps it
    ag::Linear empty_layer(0, 3);
    ag::AdamW opt(empty_layer.named_parameters());
    Tensor loss = empty_layer(ag::ones({2, 0})).sum();
    loss.backward();
    opt.step();
    CHECK(empty_layer.weight.shape() == Shape{3, 0});
    CHECK(empty_layer.bias.grad().to_vector<float>() == std::vector<float>{2, 2, 2});
}

TEST_CASE("sizes: joining views whose sizes add up past int64 is a length_error", "[sizes][views]") {
    Tensor huge = ag::ones({1}).expand({int64_t{1} << 62});
    REQUIRE_THROWS_AS(ag::cat({huge, huge, huge}, 0), std::length_error);
    REQUIRE_THROWS_AS(ag::cat({huge, huge}, 0), std::length_error);  // 2^63 elements: no room either
}
