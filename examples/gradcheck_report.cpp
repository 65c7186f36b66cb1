// What a gradient-check failure looks like, and how to read it: gradcheck on two ops with a wrong backward, made
// with ag::set_grad_fn the way the engine's own ops record theirs.
//
//   build/examples/gradcheck_report        # or: make gradcheck-report
//
// main runs four short demonstrations:
//   1. square(x) = x^2 with a backward that forgot the factor 2: the report names the input, the element, and the
//      analytic and numeric values (half of each other: a forgotten factor 2);
//   2. triple_reversed(x) = 3x with a backward that reads dout back to front: the full Jacobian catches it, a plain
//      .sum() of the output hides it, and (out * w).sum() with random w catches it again;
//   3. gradcheck refuses float32 inputs, with the reason;
//   4. the reason in numbers: central differences of x^2 in float32 and float64.
// docs/06-gradcheck.md reads the output line by line.
#include <cstdio>
#include <iostream>
#include <vector>

#include "engine/engine.h"

using namespace ag;

namespace {

// y = x^2 element-wise, with a backward that forgot the factor 2.
Tensor square(const Tensor& x) {
    Tensor out = x.detach() * x.detach();
    if (needs_grad(x))
        set_grad_fn(out, "SquareBackward", {&x}, /*saved=*/{x}, [x](const Tensor& dout) {
            accumulate_grad(x, dout * x);  // dx += dout * x   (wrong: should be dout * 2x)
        });
    return out;
}

// y = 3x element-wise, with a backward that reads dout back to front.
Tensor triple_reversed(const Tensor& x) {
    Tensor out = x.detach() * 3.0;
    if (needs_grad(x))
        set_grad_fn(out, "TripleReversedBackward", {&x}, /*saved=*/{}, [x](const Tensor& dout) {
            std::vector<double> d = dout.to_vector<double>();
            std::vector<double> reversed(d.rbegin(), d.rend());
            accumulate_grad(x, from_vector(reversed, dout.shape()) * 3.0);  // should be 3 dout
        });
    return out;
}

void demonstrate() {
    std::cout << std::boolalpha;
    // 1. a failing report
    manual_seed(0);
    Tensor x = randn({2, 3}, DType::Float64).requires_grad_();
    std::cout << "x = " << x << "\n";
    GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return square(in[0]); }, {x});
    std::cout << "passed: " << r.passed << "\n" << r.report << "\n";
    std::cout << "r.input " << r.input << ", r.input_element " << r.input_element << ", r.output_element "
              << r.output_element << ", r.analytic " << r.analytic << ", r.numeric " << r.numeric << "\n";
    std::cout << "r.input_index " << shape_str(r.input_index) << ", r.output_index " << shape_str(r.output_index)
              << ", r.gradient_reached " << r.gradient_reached << "\n";
    std::cout << "x * x passes: " << gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x}).passed
              << "\n\n";

    // 2. a plain sum hides an error that random weights reveal
    Tensor v = randn({4}, DType::Float64).requires_grad_();
    Tensor w = randn({4}, DType::Float64);
    auto full = [](const std::vector<Tensor>& in) { return triple_reversed(in[0]); };
    auto plain_sum = [](const std::vector<Tensor>& in) { return triple_reversed(in[0]).sum(); };
    auto weighted = [w](const std::vector<Tensor>& in) { return (triple_reversed(in[0]) * w).sum(); };
    std::cout << "full Jacobian passes:                   " << gradcheck(full, {v}).passed << "\n";
    std::cout << "triple_reversed(x).sum() passes:        " << gradcheck(plain_sum, {v}).passed << "\n";
    std::cout << "(triple_reversed(x) * w).sum() passes: " << gradcheck(weighted, {v}).passed << "\n";
    std::cout << gradcheck(full, {v}).report << "\n\n";

    // 3. float32 is refused
    try {
        gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {randn({3}).requires_grad_()});
    } catch (const std::exception& e) {
        std::cout << "error: " << e.what() << "\n\n";
    }

    // 4. why: the central difference of x^2 at x = 0.7 (exact derivative 1.4) in float32 and float64
    for (double eps : {1e-2, 1e-4, 1e-6, 1e-8}) {
        const float xf = 0.7f, ef = static_cast<float>(eps);
        const double xd = 0.7;
        const float nf = ((xf + ef) * (xf + ef) - (xf - ef) * (xf - ef)) / (2 * ef);
        const double nd = ((xd + eps) * (xd + eps) - (xd - eps) * (xd - eps)) / (2 * eps);
        std::printf("eps %.0e:  float32 %.8f   float64 %.12f\n", eps, nf, nd);
    }
}
}  // namespace

int main() {
    try {
        demonstrate();
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
