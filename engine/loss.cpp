// The losses with PyTorch's options: cross_entropy with ignore_index, label_smoothing and reduction, nll_loss, and
// binary_cross_entropy_with_logits. Each is a composition of engine ops (log_softmax, mul, sum, relu, exp, log), so
// its gradient is theirs; the plain cross_entropy(logits, targets) of softmax.cpp stays the fused fast path.
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/ops.h"

namespace ag {

namespace {

void check_floating(DType t, const char* op) {
    if (!is_floating(t))
        throw std::invalid_argument(std::string(op) + ": expected a floating-point input; got " + dtype_name(t));
}

void check_reduction(const std::string& reduction, const char* op) {
    if (reduction != "mean" && reduction != "sum" && reduction != "none")
        throw std::invalid_argument(std::string(op) + ": reduction must be 'mean', 'sum' or 'none'; got '" +
                                    reduction + "'");
}

Shape without_dim(const Shape& s, size_t d) {
    Shape out = s;
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(d));
    return out;
}

// The input seen as rows (M, C), one row of class scores per target, and the targets as (M). PyTorch's reading:
// x (N, C, d1, ...) with targets (N, d1, ...), the class dim 1 (moved last here). Otherwise, the GPT's: x (B, T, V)
// (any rank >= 3) with targets (B, T), the class dim last. When both fit (T == V), PyTorch's wins.
struct ClassRows {
    Tensor rows, targets;
    Shape loss_shape;  // the targets' shape: reduction 'none' returns one loss per target
};

ClassRows class_rows(const Tensor& x, const Tensor& targets, const char* op) {
    check_floating(x.dtype(), op);
    if (targets.dtype() != DType::Int64)
        throw std::invalid_argument(std::string(op) + ": targets must be int64 class indices; got " +
                                    dtype_name(targets.dtype()));
    const Shape& s = x.shape();
    const bool torch_layout = x.dim() >= 2 && targets.shape() == without_dim(s, 1);
    const bool last_layout = x.dim() >= 3 && targets.shape() == without_dim(s, s.size() - 1);
    if (!torch_layout && !last_layout)
        throw std::invalid_argument(std::string(op) + ": targets must be the input's shape without its class dim: " +
                                    "(N) for (N, C), (N, d1, ...) for (N, C, d1, ...), or (B, T) for (B, T, V); " +
                                    "got targets " + shape_str(targets.shape()) + " for input " + shape_str(s));
    const int64_t C = torch_layout ? s[1] : s.back();
    if (C == 0) throw std::invalid_argument(std::string(op) + ": the class dim must not be empty; got input " + shape_str(s));
    Tensor rows = x;
    if (torch_layout && x.dim() > 2) {  // (N, C, d1, ...) -> (N, d1, ..., C)
        Shape order = {0};
        for (int64_t d = 2; d < x.dim(); ++d) order.push_back(d);
        order.push_back(1);
        rows = x.permute(order);
    }
    return {rows.reshape({targets.numel(), C}), targets.contiguous().reshape({targets.numel()}), targets.shape()};
}

// The loss of rows (M, C) of log-probabilities: loss_m = -sum_c w[m, c] logp[m, c], with the constant weights
//   w[m, c] = (1 - eps) [c == t_m] + eps / C      (0 for a row whose target is ignore_index)
// so that loss_m = (1 - eps) nll_m + eps * mean_c(-logp[m, c]), PyTorch's label smoothing. 'mean' divides the sum
// by the count of targets that are not ignored (NaN when all are, as in PyTorch).
Tensor weighted_nll(const Tensor& logp, const ClassRows& cr, int64_t ignore_index, double eps,
                    const std::string& reduction, const char* op) {
    const int64_t M = logp.size(0), C = logp.size(1);
    const std::vector<int64_t> t = cr.targets.to_vector<int64_t>();
    std::vector<double> w(static_cast<size_t>(M * C), 0.0);
    int64_t count = 0;
    for (int64_t m = 0; m < M; ++m) {
        if (t[m] == ignore_index) continue;
        if (t[m] < 0 || t[m] >= C)
            throw std::invalid_argument(std::string(op) + ": target " + std::to_string(t[m]) + " at position " +
                                        std::to_string(m) + " is out of range for " + std::to_string(C) + " classes");
        ++count;
        for (int64_t c = 0; c < C; ++c) w[m * C + c] = eps / static_cast<double>(C);
        w[m * C + t[m]] += 1 - eps;
    }
    const Tensor weights = from_vector(w, {M, C}).to(logp.dtype());
    const Tensor loss = neg(sum(logp * weights, 1));  // (M)
    if (reduction == "none") return loss.reshape(cr.loss_shape);
    if (reduction == "sum") return sum(loss);
    return sum(loss) / static_cast<double>(count);
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyFuncOptions& options) {
    const char* op = "cross_entropy";
    check_reduction(options.reduction, op);
    if (!(options.label_smoothing >= 0 && options.label_smoothing <= 1))
        throw std::invalid_argument("cross_entropy: label_smoothing must be in [0, 1]; got " +
                                    std::to_string(options.label_smoothing));
    const ClassRows cr = class_rows(logits, targets, op);
    return weighted_nll(log_softmax(cr.rows, 1), cr, options.ignore_index, options.label_smoothing,
                        options.reduction, op);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, int64_t ignore_index, const std::string& reduction) {
    check_reduction(reduction, "nll_loss");
    const ClassRows cr = class_rows(log_probs, targets, "nll_loss");
    return weighted_nll(cr.rows, cr, ignore_index, 0.0, reduction, "nll_loss");
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, const std::string& reduction,
                                        const std::optional<Tensor>& pos_weight) {
    const char* op = "binary_cross_entropy_with_logits";
    check_reduction(reduction, op);
    check_floating(logits.dtype(), op);
    if (targets.dtype() != logits.dtype())
        throw std::invalid_argument(std::string(op) + ": targets must have the logits' dtype; got " +
                                    dtype_name(targets.dtype()) + " for " + dtype_name(logits.dtype()));
    if (targets.shape() != logits.shape())
        throw std::invalid_argument(std::string(op) + ": targets must have the logits' shape; got " +
                                    shape_str(targets.shape()) + " for " + shape_str(logits.shape()));
    // loss = (1 - y) x + (1 + (pos_weight - 1) y) log(1 + exp(-x)), with log(1 + exp(-x)) written stably as
    // max(-x, 0) + log(1 + exp(-|x|)) (no exp of a large positive number).
    const Tensor x = logits, y = targets;
    const Tensor softplus_neg = relu(-x) + log(1.0 + exp(-(relu(x) + relu(-x))));
    Tensor log_weight = ones_like(y);
    if (pos_weight) {
        const Tensor& pw = *pos_weight;
        if (pw.dtype() != logits.dtype())
            throw std::invalid_argument(std::string(op) + ": pos_weight must have the logits' dtype; got " +
                                        dtype_name(pw.dtype()) + " for " + dtype_name(logits.dtype()));
        bool fits = pw.dim() <= logits.dim();
        for (int64_t i = 1; fits && i <= pw.dim(); ++i)
            fits = pw.size(-i) == 1 || pw.size(-i) == logits.size(-i);
        if (!fits)
            throw std::invalid_argument(std::string(op) + ": pos_weight must broadcast to the logits' shape; got " +
                                        shape_str(pw.shape()) + " for " + shape_str(logits.shape()));
        log_weight = 1.0 + (pw - 1.0) * y;
    }
    const Tensor loss = (1.0 - y) * x + log_weight * softplus_neg;
    if (reduction == "none") return loss;
    if (reduction == "sum") return sum(loss);
    return mean(loss);
}

}  // namespace ag
