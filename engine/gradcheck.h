// gradcheck: compares the gradients backward() computes with central finite differences, for your own unit tests.
//
//   auto f = [](const std::vector<ag::Tensor>& in) { return ag::matmul(in[0], in[1]); };
//   ag::Tensor a = ag::randn({3, 4}, ag::DType::Float64).requires_grad_();
//   ag::Tensor b = ag::randn({4, 2}, ag::DType::Float64).requires_grad_();
//   ag::GradcheckResult r = ag::gradcheck(f, {a, b});
//   if (!r) std::cout << r.report;   // which input, which element, analytic vs numeric
//
// The report fits 80 columns (a Catch2 failure indents it by 2: no line is wrapped, no number split):
//   gradcheck: the gradient of input 1 is wrong
//     at its element [1, 4] of shape [3, 5]
//     for output element [0, 2] of shape [2, 3]
//     analytic (backward) 0.61242396
//     numeric (finite differences) 1.2248479
//     |difference| 0.61242396
//     > atol 1e-05 + rtol 0.001 * |numeric| = 0.0012348479
// Its first line reads "gradcheck: no gradient reached input 1 (backward never wrote its .grad)" when the
// finite differences move but the input's .grad was never written (a forgotten input in set_grad_fn).
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

#include "engine/shape.h"
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
    Shape input_index, output_index;  // the same two elements as multi-indices ([1, 4] of shape [3, 5])
    bool gradient_reached = true;     // false when backward never wrote the input's .grad at all
    explicit operator bool() const { return passed; }
};

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace ag
