// gradcheck, in float64 with PyTorch's tolerances, of the element-wise ops and the reductions.
#include <catch2/catch.hpp>

#include "tests/gradcheck_helpers.h"

using ag::DType;
using ag::Shape;
using ag::Slice;
using ag::Tensor;

// ---- element-wise ----------------------------------------------------------------------------------------------

TEST_CASE("gradcheck: add, sub, mul, div on equal shapes") {
    ag::manual_seed(1);
    Tensor a = input({2, 3}), b = input({2, 3}), d = positive({2, 3});
    check_binary([](const Tensor& x, const Tensor& y) { return x + y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x - y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x * y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x / y; }, a, d);
}

TEST_CASE("gradcheck: add, sub, mul, div broadcast (3,1) with (1,4)") {
    ag::manual_seed(2);
    Tensor a = input({3, 1}), b = input({1, 4}), d = positive({1, 4});
    check_binary([](const Tensor& x, const Tensor& y) { return ag::add(x, y); }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return ag::sub(x, y); }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return ag::mul(x, y); }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return ag::div(x, y); }, a, d);
}

TEST_CASE("gradcheck: add, sub, mul, div broadcast (2,3,4) with (4)") {
    ag::manual_seed(3);
    Tensor a = input({2, 3, 4}), b = input({4}), d = positive({4});
    check_binary([](const Tensor& x, const Tensor& y) { return x + y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return y - x; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x * y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x / y; }, a, d);
    check_binary([](const Tensor& x, const Tensor& y) { return y / x; }, d.detach().clone().requires_grad_(), b);
    check_binary([](const Tensor& x, const Tensor& y) { return x * y; }, input({2, 1, 4}), input({3, 1}));  // both broadcast
}

TEST_CASE("gradcheck: arithmetic with numbers (0-d operands)") {
    ag::manual_seed(4);
    Tensor x = input({2, 3}), p = positive({2, 3});
    check_unary([](const Tensor& t) { return t * 2.0; }, x);
    check_unary([](const Tensor& t) { return 3.0 * t; }, x);
    check_unary([](const Tensor& t) { return t + 1.5; }, x);
    check_unary([](const Tensor& t) { return 1.5 + t; }, x);
    check_unary([](const Tensor& t) { return t - 0.5; }, x);
    check_unary([](const Tensor& t) { return 1.0 - t; }, x);
    check_unary([](const Tensor& t) { return t / 4.0; }, x);
    check_unary([](const Tensor& t) { return 2.0 / t; }, p);
}

TEST_CASE("gradcheck: 0-d tensors combined with full tensors") {
    ag::manual_seed(5);
    Tensor s = input({}), x = input({2, 3});
    check_binary([](const Tensor& a, const Tensor& b) { return a * b; }, s, x);
    check_binary([](const Tensor& a, const Tensor& b) { return b - a; }, s, x);
    check_binary([](const Tensor& a, const Tensor& b) { return a + b; }, s, x);
}

TEST_CASE("gradcheck: an input or an intermediate used twice accumulates its gradient") {
    ag::manual_seed(6);
    Tensor x = input({2, 3});
    check_unary([](const Tensor& t) { return t * t + t; }, x);
    check_unary([](const Tensor& t) { return ag::matmul(t, t.transpose(0, 1)); }, x);
    // a diamond: y feeds three consumers, and its own backward must wait for all of them
    check_unary([](const Tensor& t) {
        Tensor y = t.tanh();
        return y * y.exp() + y.sum(0);
    }, x);
}

TEST_CASE("gradcheck: neg, exp, tanh") {
    ag::manual_seed(7);
    Tensor x = input({2, 3, 4});
    check_unary([](const Tensor& t) { return -t; }, x);
    check_unary([](const Tensor& t) { return ag::neg(t); }, x);
    check_unary([](const Tensor& t) { return t.exp(); }, x);
    check_unary([](const Tensor& t) { return t.tanh(); }, x);
}

TEST_CASE("gradcheck: log and sqrt of positive inputs") {
    ag::manual_seed(8);
    Tensor p = positive({2, 3, 4});
    check_unary([](const Tensor& t) { return t.log(); }, p);
    check_unary([](const Tensor& t) { return t.sqrt(); }, p);
}

TEST_CASE("gradcheck: relu with inputs away from 0") {
    ag::manual_seed(9);
    check_unary([](const Tensor& t) { return t.relu(); }, away_from_zero({3, 5}));
}

TEST_CASE("gradcheck: pow with integer, negative and fractional exponents") {
    ag::manual_seed(10);
    Tensor x = input({2, 3}), p = positive({2, 3});
    for (double e : {0.0, 1.0, 2.0, 3.0}) {
        INFO("exponent " << e);
        check_unary([e](const Tensor& t) { return t.pow(e); }, x);
    }
    for (double e : {-2.0, -1.0, -0.5, 0.5, 1.5, 2.5}) {
        INFO("exponent " << e << " on positive inputs");
        check_unary([e](const Tensor& t) { return ag::pow(t, e); }, p);
    }
}

// ---- reductions ------------------------------------------------------------------------------------------------

TEST_CASE("gradcheck: sum and mean over each dim, keepdim or not, and over all dims") {
    ag::manual_seed(11);
    Tensor x = input({2, 3, 4});
    check_unary([](const Tensor& t) { return t.sum(); }, x);
    check_unary([](const Tensor& t) { return t.mean(); }, x);
    for (int64_t dim : {0, 1, 2, -1})
        for (bool keepdim : {false, true}) {
            INFO("dim " << dim << ", keepdim " << keepdim);
            check_unary([=](const Tensor& t) { return t.sum(dim, keepdim); }, x);
            check_unary([=](const Tensor& t) { return t.mean(dim, keepdim); }, x);
        }
}

TEST_CASE("gradcheck: max over each dim, keepdim or not, and over all dims") {
    Tensor x = distinct({2, 3, 4});
    check_unary([](const Tensor& t) { return t.max(); }, x);
    for (int64_t dim : {0, 1, 2, -1})
        for (bool keepdim : {false, true}) {
            INFO("dim " << dim << ", keepdim " << keepdim);
            check_unary([=](const Tensor& t) { return t.max(dim, keepdim); }, x);
        }
}

TEST_CASE("gradcheck: reductions of a 0-d tensor and of a transposed view") {
    ag::manual_seed(12);
    Tensor s = input({}), x = input({3, 4});
    check_unary([](const Tensor& t) { return t.sum(0); }, s);
    check_unary([](const Tensor& t) { return t.mean(); }, s);
    check_unary([](const Tensor& t) { return t.transpose(0, 1).sum(1); }, x);
    check_unary([](const Tensor& t) { return t.transpose(0, 1).max(0, true); }, distinct({3, 4}));
}
