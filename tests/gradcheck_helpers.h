// Shared by the op family test files (test_elementwise.cpp, test_matmul.cpp, ...). Every differentiable op is
// checked against central finite differences with ag::gradcheck, in float64 with PyTorch's default tolerances, on
// small shapes including broadcast ones. Each op whose output is not a scalar is checked twice: the full Jacobian,
// and the scalar (out * w).sum() with random weights w (a plain sum hides errors that cancel).
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace {

using ag::DType;
using ag::Shape;
using ag::Slice;
using ag::Tensor;

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;
const double kInf = std::numeric_limits<double>::infinity();

// A float64 leaf of standard normals that requires grad.
inline Tensor input(const Shape& shape) { return ag::randn(shape, DType::Float64).requires_grad_(); }

// Uniform in [0.5, 2.5): for log, sqrt, fractional powers and divisors.
inline Tensor positive(const Shape& shape) { return (ag::rand(shape, DType::Float64) * 2.0 + 0.5).requires_grad_(); }

// Standard normals pushed at least 0.1 away from 0, where relu has its kink.
inline Tensor away_from_zero(const Shape& shape) {
    std::vector<double> v = ag::randn(shape, DType::Float64).to_vector<double>();
    for (double& x : v) x += x >= 0 ? 0.1 : -0.1;
    return ag::from_vector(v, shape).requires_grad_();
}

// 0, 0.25, 0.5, ... shuffled (multiplying by 7 permutes when 7 does not divide numel): max has one clear winner.
inline Tensor distinct(const Shape& shape) {
    const int64_t n = ag::numel_of(shape);
    std::vector<double> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<double>((i * 7) % n) * 0.25;
    return ag::from_vector(v, shape).requires_grad_();
}

// int64 indices of the given shape, or a 1-D tensor of them.
inline Tensor ids(const std::vector<int64_t>& values, const Shape& shape) { return ag::from_vector(values, shape); }
inline Tensor ids(const std::vector<int64_t>& values) { return ids(values, {static_cast<int64_t>(values.size())}); }

// The lower-triangular causal mask of the notebooks: true above the diagonal (the future), to be filled with -inf.
inline Tensor causal_mask(int64_t T) { return ag::tril(ag::ones({T, T}, DType::Float64)) == 0.0; }

inline void require_gradcheck(const Fn& fn, const std::vector<Tensor>& inputs) {
    ag::GradcheckResult r = ag::gradcheck(fn, inputs);
    INFO(r.report);
    REQUIRE(r.passed);
}

// gradcheck of fn; then, unless fn gives a scalar, of (fn * w).sum() with w random of fn's output shape.
inline void check(const Fn& fn, const std::vector<Tensor>& inputs) {
    require_gradcheck(fn, inputs);
    Shape out_shape;
    {
        ag::NoGradGuard no_grad;
        out_shape = fn(inputs).shape();
    }
    if (out_shape.empty()) return;
    Tensor w = ag::randn(out_shape, DType::Float64);
    INFO("checking the weighted sum (out * w).sum()");
    require_gradcheck([&fn, w](const std::vector<Tensor>& in) { return (fn(in) * w).sum(); }, inputs);
}

// check() for a function of one tensor.
inline void check_unary(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
    check([&f](const std::vector<Tensor>& in) { return f(in[0]); }, {x});
}

// check() for a function of two tensors.
inline void check_binary(const std::function<Tensor(const Tensor&, const Tensor&)>& f, const Tensor& a, const Tensor& b) {
    check([&f](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, {a, b});
}

}  // namespace
