// gradcheck: compares the gradients backward() computes with central finite differences, for your own unit tests.
//
//   auto f = [](const std::vector<ag::Tensor>& in) { return ag::matmul(in[0], in[1]); };
//   ag::Tensor a = ag::randn({3, 4}, ag::DType::Float64).requires_grad_();
//   ag::Tensor b = ag::randn({4, 2}, ag::DType::Float64).requires_grad_();
//   ag::GradcheckResult r = ag::gradcheck(f, {a, b});
//   if (!r) std::cout << r.report;   // which input, which element, analytic vs numeric
//
// For every output element j and every element i of every input that requires grad, the analytic Jacobian entry
// (one backward() per output element, seeded with a one-hot gradient) must match the numeric one,
//   (f(x + eps e_i)[j] - f(x - eps e_i)[j]) / (2 eps),
// within |analytic - numeric| <= atol + rtol * |numeric|: PyTorch's criterion and default tolerances.
// Finite differences need float64: float32 inputs are refused. Inputs' values and .grad are restored afterwards.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace ag {

// gradcheck throws std::invalid_argument unless eps > 0 and atol, rtol >= 0, all finite.
struct GradcheckOptions {
    double eps = 1e-6;   // the finite-difference step
    double atol = 1e-5;  // absolute tolerance
    double rtol = 1e-3;  // relative tolerance, times |numeric|
};

struct GradcheckResult {
    bool passed = true;
    std::string report;          // empty when passed; otherwise says where and by how much it failed
    int input = -1;              // the first input (in list order) with a wrong gradient
    int64_t input_element = -1;  // its worst element's flat (row-major) index
    int64_t output_element = -1;
    double analytic = 0, numeric = 0;
    explicit operator bool() const { return passed; }
};

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace ag
