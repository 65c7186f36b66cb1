// Tests for ag::format_tensor. Every expected string is PyTorch 1.13's repr() of the same tensor,
// produced by tests/fixtures/make_format_fixtures.py; the inputs here mirror the tensors there.
#include <catch2/catch.hpp>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/format.h"
#include "engine/ops.h"

using ag::format_tensor;
using ag::ValueKind;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// float32 values as they reach format_tensor: each rounded to float, then widened back to double.
std::vector<double> f32(std::initializer_list<double> xs) {
    std::vector<double> v;
    for (double x : xs) v.push_back(static_cast<float>(x));
    return v;
}

// The fixture script's pattern: ((37 i) mod 101 - 50) / 16, mixed signs, exact in float32.
std::vector<double> pattern(int n) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(((i * 37) % 101 - 50) / 16.0);
    return v;
}

// 0, step, 2 step, ... as int64 values.
std::vector<int64_t> arange(int n, int64_t step = 1) {
    std::vector<int64_t> v;
    for (int i = 0; i < n; ++i) v.push_back(i * step);
    return v;
}

std::string integers(const std::vector<int64_t>& shape, const std::vector<int64_t>& values,
                     const std::vector<std::string>& suffixes = {}) {
    return format_tensor(shape, values, suffixes);
}

std::string floats(const std::vector<int64_t>& shape, const std::vector<double>& values,
                   const std::vector<std::string>& suffixes = {}) {
    return format_tensor(shape, values, ValueKind::Floating, suffixes);
}

}  // namespace

TEST_CASE("format: the notebook examples print like PyTorch", "[format]") {
    CHECK(floats({2, 2}, f32({0.1808, -0.0700, -0.3596, -0.9152})) ==
          R"(tensor([[ 0.1808, -0.0700],
        [-0.3596, -0.9152]]))");
    CHECK(floats({2, 3}, f32({1, 0, 0, 0.5, 0.5, 0})) ==
          R"(tensor([[1.0000, 0.0000, 0.0000],
        [0.5000, 0.5000, 0.0000]]))");
    CHECK(floats({2, 3}, {0, -kInf, -kInf, 0, 0, -kInf}) ==
          R"(tensor([[0., -inf, -inf],
        [0., 0., -inf]]))");
    CHECK(floats({2, 3}, f32({2.4787, -kInf, -kInf, 0.0791, 0.4195, -kInf})) ==
          R"(tensor([[2.4787,   -inf,   -inf],
        [0.0791, 0.4195,   -inf]]))");
    CHECK(floats({5}, f32({0.1925, 0.1426, 0.2351, 0.1426, 0.2872})) ==
          R"(tensor([0.1925, 0.1426, 0.2351, 0.1426, 0.2872]))");
}

TEST_CASE("format: a long 1-D row wraps at 80 columns under the first element", "[format]") {
    CHECK(floats({20}, pattern(20)) ==
          R"(tensor([-3.1250, -0.8125,  1.5000, -2.5000, -0.1875,  2.1250, -1.8750,  0.4375,
         2.7500, -1.2500,  1.0625, -2.9375, -0.6250,  1.6875, -2.3125,  0.0000,
         2.3125, -1.6875,  0.6250,  2.9375]))");
}

TEST_CASE("format: wrapped rows of a matrix are indented one column deeper", "[format]") {
    CHECK(floats({2, 15}, pattern(30)) ==
          R"(tensor([[-3.1250, -0.8125,  1.5000, -2.5000, -0.1875,  2.1250, -1.8750,  0.4375,
          2.7500, -1.2500,  1.0625, -2.9375, -0.6250,  1.6875, -2.3125],
        [ 0.0000,  2.3125, -1.6875,  0.6250,  2.9375, -1.0625,  1.2500, -2.7500,
         -0.4375,  1.8750, -2.1250,  0.1875,  2.5000, -1.5000,  0.8125]]))");
}

TEST_CASE("format: blocks of 3-D and 4-D tensors are separated by blank lines", "[format]") {
    CHECK(floats({2, 3, 4}, pattern(24)) ==
          R"(tensor([[[-3.1250, -0.8125,  1.5000, -2.5000],
         [-0.1875,  2.1250, -1.8750,  0.4375],
         [ 2.7500, -1.2500,  1.0625, -2.9375]],

        [[-0.6250,  1.6875, -2.3125,  0.0000],
         [ 2.3125, -1.6875,  0.6250,  2.9375],
         [-1.0625,  1.2500, -2.7500, -0.4375]]]))");
    CHECK(floats({2, 2, 2, 2}, pattern(16)) ==
          R"(tensor([[[[-3.1250, -0.8125],
          [ 1.5000, -2.5000]],

         [[-0.1875,  2.1250],
          [-1.8750,  0.4375]]],


        [[[ 2.7500, -1.2500],
          [ 1.0625, -2.9375]],

         [[-0.6250,  1.6875],
          [-2.3125,  0.0000]]]]))");
}

TEST_CASE("format: tensors with more than 1000 elements are summarized with ...", "[format]") {
    CHECK(floats({2000}, pattern(2000)) ==
          R"(tensor([-3.1250, -0.8125,  1.5000,  ...,  0.5000,  2.8125, -1.1875]))");
    CHECK(floats({40, 50}, pattern(2000)) ==
          R"(tensor([[-3.1250, -0.8125,  1.5000,  ..., -1.7500,  0.5625,  2.8750],
        [-1.1250,  1.1875, -2.8125,  ...,  0.2500,  2.5625, -1.4375],
        [ 0.8750, -3.1250, -0.8125,  ...,  2.2500, -1.7500,  0.5625],
        ...,
        [ 1.4375, -2.5625, -0.2500,  ...,  2.8125, -1.1875,  1.1250],
        [-2.8750, -0.5625,  1.7500,  ..., -1.5000,  0.8125,  3.1250],
        [-0.8750,  1.4375, -2.5625,  ...,  0.5000,  2.8125, -1.1875]]))");
    CHECK(integers({1001}, arange(1001)) ==
          R"(tensor([   0,    1,    2,  ...,  998,  999, 1000]))");
}

TEST_CASE("format: a summarized 3-D tensor elides rows and whole blocks", "[format]") {
    CHECK(floats({11, 10, 12}, pattern(11 * 10 * 12)) ==
          R"(tensor([[[-3.1250, -0.8125,  1.5000,  ..., -1.2500,  1.0625, -2.9375],
         [-0.6250,  1.6875, -2.3125,  ...,  1.2500, -2.7500, -0.4375],
         [ 1.8750, -2.1250,  0.1875,  ..., -2.5625, -0.2500,  2.0625],
         ...,
         [ 1.7500, -2.2500,  0.0625,  ..., -2.6875, -0.3750,  1.9375],
         [-2.0625,  0.2500,  2.5625,  ..., -0.1875,  2.1250, -1.8750],
         [ 0.4375,  2.7500, -1.2500,  ...,  2.3125, -1.6875,  0.6250]],

        [[ 2.9375, -1.0625,  1.2500,  ..., -1.5000,  0.8125,  3.1250],
         [-0.8750,  1.4375, -2.5625,  ...,  1.0000, -3.0000, -0.6875],
         [ 1.6250, -2.3750, -0.0625,  ..., -2.8125, -0.5000,  1.8125],
         ...,
         [ 1.5000, -2.5000, -0.1875,  ..., -2.9375, -0.6250,  1.6875],
         [-2.3125,  0.0000,  2.3125,  ..., -0.4375,  1.8750, -2.1250],
         [ 0.1875,  2.5000, -1.5000,  ...,  2.0625, -1.9375,  0.3750]],

        [[ 2.6875, -1.3125,  1.0000,  ..., -1.7500,  0.5625,  2.8750],
         [-1.1250,  1.1875, -2.8125,  ...,  0.7500,  3.0625, -0.9375],
         [ 1.3750, -2.6250, -0.3125,  ..., -3.0625, -0.7500,  1.5625],
         ...,
         [ 1.2500, -2.7500, -0.4375,  ...,  3.1250, -0.8750,  1.4375],
         [-2.5625, -0.2500,  2.0625,  ..., -0.6875,  1.6250, -2.3750],
         [-0.0625,  2.2500, -1.7500,  ...,  1.8125, -2.1875,  0.1250]],

        ...,

        [[ 1.1875, -2.8125, -0.5000,  ...,  3.0625, -0.9375,  1.3750],
         [-2.6250, -0.3125,  2.0000,  ..., -0.7500,  1.5625, -2.4375],
         [-0.1250,  2.1875, -1.8125,  ...,  1.7500, -2.2500,  0.0625],
         ...,
         [-0.2500,  2.0625, -1.9375,  ...,  1.6250, -2.3750, -0.0625],
         [ 2.2500, -1.7500,  0.5625,  ..., -2.1875,  0.1250,  2.4375],
         [-1.5625,  0.7500,  3.0625,  ...,  0.3125,  2.6250, -1.3750]],

        [[ 0.9375, -3.0625, -0.7500,  ...,  2.8125, -1.1875,  1.1250],
         [-2.8750, -0.5625,  1.7500,  ..., -1.0000,  1.3125, -2.6875],
         [-0.3750,  1.9375, -2.0625,  ...,  1.5000, -2.5000, -0.1875],
         ...,
         [-0.5000,  1.8125, -2.1875,  ...,  1.3750, -2.6250, -0.3125],
         [ 2.0000, -2.0000,  0.3125,  ..., -2.4375, -0.1250,  2.1875],
         [-1.8125,  0.5000,  2.8125,  ...,  0.0625,  2.3750, -1.6250]],

        [[ 0.6875,  3.0000, -1.0000,  ...,  2.5625, -1.4375,  0.8750],
         [-3.1250, -0.8125,  1.5000,  ..., -1.2500,  1.0625, -2.9375],
         [-0.6250,  1.6875, -2.3125,  ...,  1.2500, -2.7500, -0.4375],
         ...,
         [-0.7500,  1.5625, -2.4375,  ...,  1.1250, -2.8750, -0.5625],
         [ 1.7500, -2.2500,  0.0625,  ..., -2.6875, -0.3750,  1.9375],
         [-2.0625,  0.2500,  2.5625,  ..., -0.1875,  2.1250, -1.8750]]]))");
}

TEST_CASE("format: the style of a summarized tensor ignores the hidden middle", "[format]") {
    std::vector<double> v(2000, 0.25);
    v[0] = 0.5;
    v[1000] = 1e10;  // would force scientific notation if it were shown
    CHECK(floats({2000}, v) == R"(tensor([0.5000, 0.2500, 0.2500,  ..., 0.2500, 0.2500, 0.2500]))");
}

TEST_CASE("format: scientific notation is used for tiny, huge or widely spread values", "[format]") {
    CHECK(floats({3}, f32({1e-5, 0.5, -2.0})) ==
          R"(tensor([ 1.0000e-05,  5.0000e-01, -2.0000e+00]))");
    CHECK(floats({2}, f32({0.5, 1500.25})) == R"(tensor([5.0000e-01, 1.5002e+03]))");
    CHECK(floats({2}, f32({1.0, 1e9})) == R"(tensor([1.0000e+00, 1.0000e+09]))");
    CHECK(floats({2}, f32({1.0, -2000.0})) == R"(tensor([ 1.0000e+00, -2.0000e+03]))");
    CHECK(floats({3}, {1e-100, 1.0, 1e100}, {"dtype=torch.float64"}) ==
          R"(tensor([1.0000e-100,  1.0000e+00, 1.0000e+100], dtype=torch.float64))");
}

TEST_CASE("format: whole-number floats print with a trailing dot", "[format]") {
    CHECK(floats({4}, {1, -20, 300, 0}) == R"(tensor([  1., -20., 300.,   0.]))");
    CHECK(floats({2, 2}, {0, 0, 0, 0}) == R"(tensor([[0., 0.],
        [0., 0.]]))");
    CHECK(floats({2}, {-0.0, 1}) == R"(tensor([-0., 1.]))");
    CHECK(floats({2}, {-0.0, 0.5}) == R"(tensor([-0.0000, 0.5000]))");
}

TEST_CASE("format: nan and inf are right-aligned but do not widen the columns", "[format]") {
    CHECK(floats({5}, {kNaN, 1.5, kInf, -kInf, 0}) ==
          R"(tensor([   nan, 1.5000,    inf,   -inf, 0.0000]))");
    CHECK(floats({3}, {kNaN, 2, kInf}) == R"(tensor([nan, 2., inf]))");
    CHECK(floats({4}, f32({kNaN, 1e-5, 1.0, -kInf})) ==
          R"(tensor([       nan, 1.0000e-05, 1.0000e+00,       -inf]))");
    CHECK(floats({2}, {std::copysign(kNaN, -1.0), 1}) == R"(tensor([nan, 1.]))");
}

TEST_CASE("format: int64 tensors print plain integers", "[format]") {
    CHECK(integers({3}, {1, 2, 3}) == R"(tensor([1, 2, 3]))");
    CHECK(integers({2, 2}, {-100, 5, 20000, 0}) ==
          R"(tensor([[ -100,     5],
        [20000,     0]]))");
    CHECK(integers({30}, arange(30, 1000)) ==
          R"(tensor([    0,  1000,  2000,  3000,  4000,  5000,  6000,  7000,  8000,  9000,
        10000, 11000, 12000, 13000, 14000, 15000, 16000, 17000, 18000, 19000,
        20000, 21000, 22000, 23000, 24000, 25000, 26000, 27000, 28000, 29000]))");
}

TEST_CASE("format: int64 tensors print every value exactly, the extremes too", "[format]") {
    const int64_t max = std::numeric_limits<int64_t>::max(), min = std::numeric_limits<int64_t>::min();
    CHECK(ag::from_vector(std::vector<int64_t>{max}, {1}).str() == "tensor([9223372036854775807])");
    CHECK(ag::from_vector(std::vector<int64_t>{min, 0}, {2}).str() ==
          "tensor([-9223372036854775808,                    0])");
    CHECK(ag::from_vector(std::vector<int64_t>{(int64_t{1} << 53) + 1}, {}).str() == "tensor(9007199254740993)");
    REQUIRE_THROWS_WITH(format_tensor({1}, {1.0}, ValueKind::Integer),
                        "format_tensor: integers are formatted from int64 values, exactly");
}

TEST_CASE("format: bool tensors print True and False aligned", "[format]") {
    CHECK(format_tensor({2}, {1, 0}, ValueKind::Boolean) == R"(tensor([ True, False]))");
    CHECK(format_tensor({2}, {1, 1}, ValueKind::Boolean) == R"(tensor([True, True]))");
    CHECK(format_tensor({2, 3}, {1, 0, 1, 0, 0, 1}, ValueKind::Boolean) ==
          R"(tensor([[ True, False,  True],
        [False, False,  True]]))");
}

TEST_CASE("format: 0-d tensors print a bare value", "[format]") {
    CHECK(floats({}, f32({0.1808})) == R"(tensor(0.1808))");
    CHECK(floats({}, {3}) == R"(tensor(3.))");
    CHECK(floats({}, f32({1e-5})) == R"(tensor(1.0000e-05))");
    CHECK(floats({}, {0}) == R"(tensor(0.))");
    CHECK(floats({}, {kNaN}) == R"(tensor(nan))");
    CHECK(floats({}, {-kInf}) == R"(tensor(-inf))");
    CHECK(integers({}, {-5}) == R"(tensor(-5))");
    CHECK(format_tensor({}, {1}, ValueKind::Boolean) == R"(tensor(True))");
}

TEST_CASE("format: empty tensors print [] and their size unless 1-D", "[format]") {
    CHECK(floats({0}, {}) == R"(tensor([]))");
    CHECK(floats({0, 3}, {}) == R"(tensor([], size=(0, 3)))");
    CHECK(floats({2, 0, 4}, {}) == R"(tensor([], size=(2, 0, 4)))");
    CHECK(integers({0}, {}, {"dtype=torch.int64"}) ==
          R"(tensor([], dtype=torch.int64))");
}

TEST_CASE("format: suffixes follow the values on the same line when they fit", "[format]") {
    CHECK(floats({2}, {1.5, 2.5}, {"dtype=torch.float64"}) ==
          R"(tensor([1.5000, 2.5000], dtype=torch.float64))");
    CHECK(floats({2}, {1.5, 2.5}, {"requires_grad=True"}) ==
          R"(tensor([1.5000, 2.5000], requires_grad=True))");
    CHECK(floats({2}, {2.5, 3.5}, {"grad_fn=<AddBackward0>"}) ==
          R"(tensor([2.5000, 3.5000], grad_fn=<AddBackward0>))");
    CHECK(floats({}, {0.5}, {"dtype=torch.float64", "requires_grad=True"}) ==
          R"(tensor(0.5000, dtype=torch.float64, requires_grad=True))");
    CHECK(floats({10}, pattern(10), {"grad_fn=<MulBackward0>"}) ==
          R"(tensor([-3.1250, -0.8125,  1.5000, -2.5000, -0.1875,  2.1250, -1.8750,  0.4375,
         2.7500, -1.2500], grad_fn=<MulBackward0>))");
}

TEST_CASE("format: a suffix that would pass 80 columns moves to its own line", "[format]") {
    CHECK(floats({8}, pattern(8), {"requires_grad=True"}) ==
          R"(tensor([-3.1250, -0.8125,  1.5000, -2.5000, -0.1875,  2.1250, -1.8750,  0.4375],
       requires_grad=True))");
    CHECK(floats({5}, pattern(5), {"dtype=torch.float64", "requires_grad=True"}) ==
          R"(tensor([-3.1250, -0.8125,  1.5000, -2.5000, -0.1875], dtype=torch.float64,
       requires_grad=True))");
}

TEST_CASE("format: a shape that does not match the values is rejected", "[format]") {
    CHECK_THROWS_AS(floats({2, 2}, {1, 2, 3}), std::invalid_argument);
    CHECK_THROWS_AS(floats({-1}, {}), std::invalid_argument);
}

TEST_CASE("format: a huge tensor prints its edges without copying the rest", "[format]") {
    // 2^40 elements would be 4 TiB as a copy; printing reads only the elements shown.
    ag::Tensor huge = ag::zeros({1}).expand({int64_t{1} << 40});
    CHECK(huge.str() == "tensor([0., 0., 0.,  ..., 0., 0., 0.])");
    ag::Tensor grid = ag::arange(6).reshape({2, 3}).expand({int64_t{1} << 20, 2, 3});
    CHECK(grid[int64_t{1} << 19].str() == "tensor([[0., 1., 2.],\n        [3., 4., 5.]])");
    CHECK(grid.str().find("...") != std::string::npos);
}
