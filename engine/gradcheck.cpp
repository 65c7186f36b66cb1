#include "engine/gradcheck.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// The element at flat row-major index i of a (possibly strided) float64 tensor.
double& element(const Tensor& t, int64_t i) {
    int64_t offset = 0;
    for (int64_t d = t.dim() - 1; d >= 0; --d) {
        offset += (i % t.shape()[d]) * t.strides()[d];
        i /= t.shape()[d];
    }
    return t.data<double>()[offset];
}

// The multi-index of flat row-major index i in shape: 4 in [3, 5] is [0, 4], 9 is [1, 4].
Shape unravel(int64_t i, const Shape& shape) {
    Shape index(shape.size());
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        index[d] = i % shape[d];
        i /= shape[d];
    }
    return index;
}

// jacobian[k][j][i] = d out[j] / d inputs[k][i], by backward() once per output element; reached[k] says whether
// any backward wrote inputs[k]'s .grad, out_shape is the output's shape.
std::vector<std::vector<std::vector<double>>> analytic_jacobian(const Fn& fn, const std::vector<Tensor>& inputs,
                                                                std::vector<bool>& reached, Shape& out_shape) {
    Tensor out = fn(inputs);
    out_shape = out.shape();
    reached.assign(inputs.size(), false);
    if (out.dtype() != DType::Float64)
        throw std::invalid_argument("gradcheck: the function must return a float64 tensor; got " +
                                    dtype_name(out.dtype()));
    const int64_t n_out = out.numel();
    std::vector<std::vector<std::vector<double>>> jac(inputs.size());
    for (size_t k = 0; k < inputs.size(); ++k)
        jac[k].assign(n_out, std::vector<double>(inputs[k].requires_grad() ? inputs[k].numel() : 0, 0.0));
    if (!out.requires_grad()) return jac;  // nothing depends on the inputs: every entry is 0
    for (int64_t j = 0; j < n_out; ++j) {
        for (const Tensor& x : inputs) x.impl().grad.reset();
        Tensor seed = zeros(out.shape(), DType::Float64);
        element(seed, j) = 1.0;
        out.backward(seed, /*retain_graph=*/true);
        for (size_t k = 0; k < inputs.size(); ++k) {
            Tensor g = inputs[k].grad();
            if (!g.defined()) continue;
            reached[k] = true;
            for (int64_t i = 0; i < inputs[k].numel(); ++i) jac[k][j][i] = element(g, i);
        }
    }
    return jac;
}

// Puts a perturbed input element back however the scope is left (fn may throw).
struct RestoreElement {
    double& x;
    const double saved;
    ~RestoreElement() { x = saved; }
};

// d out / d inputs[k][i] for every output element, by central differences.
std::vector<double> numeric_column(const Fn& fn, const std::vector<Tensor>& inputs, size_t k, int64_t i, double eps) {
    NoGradGuard no_grad;
    double& x = element(inputs[k], i);
    RestoreElement restore{x, x};
    x = restore.saved + eps;
    std::vector<double> plus = fn(inputs).to_vector<double>();
    x = restore.saved - eps;
    std::vector<double> minus = fn(inputs).to_vector<double>();
    for (size_t j = 0; j < plus.size(); ++j) plus[j] = (plus[j] - minus[j]) / (2 * eps);
    return plus;
}

// Gives the inputs back the .grad they had before gradcheck, however it ends.
struct RestoreGrads {
    const std::vector<Tensor>& inputs;
    std::vector<std::shared_ptr<TensorImpl>> saved;
    explicit RestoreGrads(const std::vector<Tensor>& in) : inputs(in) {
        for (const Tensor& x : inputs) saved.push_back(x.impl().grad);
    }
    ~RestoreGrads() {
        for (size_t k = 0; k < inputs.size(); ++k) inputs[k].impl().grad = saved[k];
    }
};

// The report, one fact a line, every line short enough for an 80-column terminal once Catch2 indents it.
std::string describe_failure(const GradcheckResult& r, const Shape& input_shape, const Shape& output_shape,
                             const GradcheckOptions& o) {
    std::ostringstream s;
    s.precision(8);
    if (r.gradient_reached)
        s << "gradcheck: the gradient of input " << r.input << " is wrong\n";
    else
        s << "gradcheck: no gradient reached input " << r.input << " (backward never wrote its .grad)\n";
    s << "  at its element " << shape_str(r.input_index) << " of shape " << shape_str(input_shape) << "\n"
      << "  for output element " << shape_str(r.output_index) << " of shape " << shape_str(output_shape) << "\n"
      << "  analytic (backward) " << r.analytic << "\n"
      << "  numeric (finite differences) " << r.numeric << "\n"
      << "  |difference| " << std::abs(r.analytic - r.numeric) << "\n"
      << "  > atol " << o.atol << " + rtol " << o.rtol << " * |numeric| = " << o.atol + o.rtol * std::abs(r.numeric);
    return s.str();
}

// eps must be a usable step, the tolerances non-negative: otherwise a failure would blame a correct backward.
void check_options(const GradcheckOptions& o) {
    auto refuse = [](const std::string& rule, double got) {
        std::ostringstream s;
        s << "gradcheck: " << rule << "; got " << got;
        throw std::invalid_argument(s.str());
    };
    if (!(o.eps > 0) || !std::isfinite(o.eps)) refuse("eps must be positive and finite", o.eps);
    if (!(o.atol >= 0) || !std::isfinite(o.atol)) refuse("atol must be non-negative and finite", o.atol);
    if (!(o.rtol >= 0) || !std::isfinite(o.rtol)) refuse("rtol must be non-negative and finite", o.rtol);
}

void check_inputs(const std::vector<Tensor>& inputs) {
    bool any = false;
    for (size_t k = 0; k < inputs.size(); ++k) {
        if (!inputs[k].requires_grad()) continue;
        any = true;
        if (inputs[k].dtype() != DType::Float64)
            throw std::invalid_argument("gradcheck: input " + std::to_string(k) + " is " +
                                        dtype_name(inputs[k].dtype()) +
                                        "; finite differences need float64 (make it with DType::Float64 or .to())");
        if (!inputs[k].is_leaf())
            throw std::invalid_argument("gradcheck: input " + std::to_string(k) +
                                        " is not a leaf; pass tensors created with requires_grad_()");
        for (int64_t d = 0; d < inputs[k].dim(); ++d)
            if (inputs[k].shape()[d] > 1 && inputs[k].strides()[d] == 0)
                throw std::invalid_argument("gradcheck: input " + std::to_string(k) + " has a dim of stride 0 (an "
                                            "expand()ed view): its elements share memory and cannot be perturbed one "
                                            "at a time; pass a contiguous() copy");
    }
    if (!any) throw std::invalid_argument("gradcheck: no input requires grad; call requires_grad_() on those to check");
}

}  // namespace

GradcheckResult gradcheck(const Fn& fn, const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
    check_options(options);
    check_inputs(inputs);
    GradcheckResult result;
    Shape out_shape;
    {
        RestoreGrads restore(inputs);
        std::vector<bool> reached;
        auto jac = analytic_jacobian(fn, inputs, reached, out_shape);
        double worst = -1;
        for (size_t k = 0; k < inputs.size() && result.passed; ++k) {
            if (!inputs[k].requires_grad()) continue;
            for (int64_t i = 0; i < inputs[k].numel(); ++i) {
                std::vector<double> numeric = numeric_column(fn, inputs, k, i, options.eps);
                for (size_t j = 0; j < numeric.size(); ++j) {
                    double a = jac[k][j][i], n = numeric[j], excess = std::abs(a - n) - (options.atol + options.rtol * std::abs(n));
                    if (!(excess <= 0) && !(excess <= worst)) {  // NaN counts as a failure
                        worst = std::isnan(excess) ? INFINITY : excess;
                        result = {false, "", static_cast<int>(k), i, static_cast<int64_t>(j), a, n,
                                  unravel(i, inputs[k].shape()), unravel(static_cast<int64_t>(j), out_shape), reached[k]};
                    }
                }
            }
        }
    }
    if (!result.passed) result.report = describe_failure(result, inputs[result.input].shape(), out_shape, options);
    return result;
}

}  // namespace ag
